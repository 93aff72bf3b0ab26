// The fused GEMM epilogue (kernels/cpu/gemm.h, GemmEpilogue): row bias, column
// bias and ReLU applied after the last k slice must equal gemm_ref followed by
// the same operations in a separate pass, at every ISA level, on sizes that cut
// tiles and k slices unevenly, for k spanning several KC slices (the epilogue
// may run only once, after the last), on several threads, in batched form, and
// for k == 0 / alpha == 0 (where it applies to beta·C).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/parallel.h"

using namespace graft;
using namespace graft::kernels;
using namespace graft::kernels::cpu;

namespace {

template <typename T>
std::vector<T> values(size_t n, uint64_t seed) {
    std::vector<T> v(n);
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (T& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = T(2.0 * double(s >> 11) / double(1ull << 53) - 1.0);
    }
    return v;
}

struct IsaScope {
    Isa saved = active_isa();
    ~IsaScope() { set_isa(saved); }
};

template <typename T>
void check_epilogue(int64_t m, int64_t n, int64_t k, T alpha, T beta, bool rows, bool cols, bool relu,
                    int64_t batch = 1) {
    const auto a = values<T>(size_t(batch * m * k), 1), b = values<T>(size_t(batch * k * n), 2);
    const auto rb = values<T>(size_t(m), 3), cb = values<T>(size_t(n), 4);
    std::vector<T> c = values<T>(size_t(batch * m * n), 5), want = c;
    GemmEpilogue<T> e;
    if (rows) e.row_bias = rb.data();
    if (cols) e.col_bias = cb.data();
    e.relu = relu;
    gemm_strided_batched(false, false, m, n, k, alpha, a.data(), k, m * k, b.data(), n, k * n, beta, c.data(), n, m * n,
                         batch, e);
    for (int64_t bi = 0; bi < batch; ++bi) {
        T* w = want.data() + bi * m * n;
        gemm_ref<T>(false, false, m, n, k, alpha, a.data() + bi * m * k, k, b.data() + bi * k * n, n, beta, w, n);
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                T& x = w[i * n + j];
                if (rows) x += rb[size_t(i)];
                if (cols) x += cb[size_t(j)];
                if (relu && x < T(0)) x = T(0);
            }
    }
    const double rtol = std::is_same_v<T, float> ? 2e-5 : 1e-13;
    for (size_t i = 0; i < c.size(); ++i) {
        const double tol = rtol * (1.0 + double(k)) * (1.0 + std::abs(double(want[i])));
        if (!(std::abs(double(c[i]) - double(want[i])) <= tol))
            FAIL(isa_name(active_isa()) << " m=" << m << " n=" << n << " k=" << k << " rows=" << rows << " cols=" << cols
                                        << " relu=" << relu << " batch=" << batch << ": C[" << i << "] = " << c[i]
                                        << ", want " << want[i]);
        if (relu) REQUIRE(c[i] >= T(0));
    }
}

}  // namespace

TEST_CASE("GEMM epilogue (bias per row/column, ReLU) equals GEMM then a separate pass", "[kernels][gemm][epilogue]") {
    IsaScope restore;
    for (int level = 0; level <= int(detected_isa()); ++level) {
        set_isa(Isa(level));
        for (int64_t m : {1, 3, 15, 29, 170})
            for (int64_t n : {1, 17, 33, 65})
                for (int64_t k : {1, 17, 600, 1300})  // 600 and 1300 span two and three KC slices
                    for (int mode = 1; mode < 8; ++mode)
                        check_epilogue<float>(m, n, k, 1.f, 0.f, mode & 1, mode & 2, mode & 4);
        check_epilogue<double>(29, 33, 300, 0.5, 1.0, true, true, true);
        check_epilogue<float>(17, 40, 80, 1.f, 1.f, true, false, true, 3);  // batched, beta 1
    }
}

TEST_CASE("GEMM epilogue with k == 0 or alpha == 0 applies to beta·C", "[kernels][gemm][epilogue]") {
    check_epilogue<float>(5, 7, 0, 1.f, 0.f, true, true, true);
    check_epilogue<float>(5, 7, 9, 0.f, 0.5f, true, false, false);
}

TEST_CASE("GEMM epilogue results do not depend on the thread count", "[kernels][gemm][epilogue][threads]") {
    const int64_t m = 300, n = 200, k = 700;
    const auto a = values<float>(size_t(m * k), 1), b = values<float>(size_t(k * n), 2), bias = values<float>(size_t(n), 3);
    GemmEpilogue<float> e;
    e.col_bias = bias.data();
    e.relu = true;
    const int saved = get_num_threads();
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        std::vector<float> c(size_t(m * n), std::numeric_limits<float>::quiet_NaN());
        sgemm(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n, e);
        results.push_back(c);
    }
    set_num_threads(saved);
    REQUIRE(results[0] == results[1]);
    REQUIRE(results[0] == results[2]);
}
