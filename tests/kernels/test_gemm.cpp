// sgemm/dgemm at every ISA level this CPU has against gemm_ref: all transpose
// combinations, alpha/beta (beta 0 never reads C), awkward sizes, leading
// dimensions larger than the width, k beyond one cache block, the strided-
// batched form with broadcast operands, and thread-count independence.
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
std::vector<T> lcg(size_t n, uint64_t seed) {
    std::vector<T> v(n);
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (T& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = T(2.0 * double(s >> 11) / double(1ull << 53) - 1.0);
    }
    return v;
}

// Restores the ISA level on scope exit.
struct IsaScope {
    Isa saved = active_isa();
    ~IsaScope() { set_isa(saved); }
};

template <typename T>
constexpr double rtol() { return std::is_same_v<T, float> ? 2e-5 : 1e-13; }

// One GEMM problem run by the fast path and by gemm_ref; compares every C
// element (including the padding between rows, which must stay untouched).
template <typename T>
void check_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, T beta, int64_t pad, bool nan_c) {
    const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    const auto a = lcg<T>(size_t((ta ? k : m) * lda + 1), 1), b = lcg<T>(size_t((tb ? n : k) * ldb + 1), 2);
    std::vector<T> c = lcg<T>(size_t(m * ldc + 1), 3);
    if (nan_c) std::fill(c.begin(), c.end(), std::numeric_limits<T>::quiet_NaN());
    std::vector<T> want = c;
    gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
    gemm_ref<T>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
    for (size_t i = 0; i < c.size(); ++i) {
        const bool in_c = int64_t(i) < m * ldc && int64_t(i) % ldc < n;
        if (!in_c) {  // padding keeps its NaN or value (compare bit patterns through ==, NaN aside)
            if (!(std::isnan(c[i]) && std::isnan(want[i]))) REQUIRE(c[i] == want[i]);
            continue;
        }
        const double tol = rtol<T>() * (1.0 + double(k)) * (1.0 + std::abs(double(want[i])));
        if (!(std::abs(double(c[i]) - double(want[i])) <= tol)) {
            FAIL("gemm " << isa_name(active_isa()) << (std::is_same_v<T, float> ? " sgemm" : " dgemm")
                         << " ta=" << ta << " tb=" << tb << " m=" << m << " n=" << n << " k=" << k
                         << " alpha=" << alpha << " beta=" << beta << " pad=" << pad << ": C[" << i / size_t(ldc)
                         << ", " << i % size_t(ldc) << "] = " << c[i] << ", want " << want[i]);
        }
    }
}

template <typename T>
void check_all_levels() {
    IsaScope restore;
    const std::vector<int64_t> sizes{0, 1, 3, 17, 63, 129};
    for (int level = 0; level <= int(detected_isa()); ++level) {
        set_isa(Isa(level));
        for (bool ta : {false, true})
            for (bool tb : {false, true}) {
                for (int64_t m : sizes)
                    for (int64_t n : sizes)
                        for (int64_t k : {int64_t(0), int64_t(1), int64_t(17), int64_t(129)})
                            check_gemm<T>(ta, tb, m, n, k, T(1), T(0), 0, false);
                check_gemm<T>(ta, tb, 17, 63, 300, T(0.5), T(2), 3, false);  // k over one block, beta != 0
                check_gemm<T>(ta, tb, 63, 17, 3, T(-1.5), T(1), 5, false);
                check_gemm<T>(ta, tb, 129, 129, 63, T(1), T(0), 7, true);    // beta 0 never reads C
                check_gemm<T>(ta, tb, 3, 17, 300, T(1), T(0), 1, true);
                check_gemm<T>(ta, tb, 17, 3, 17, T(0), T(0.5), 2, false);    // alpha 0: C = beta C
                check_gemm<T>(ta, tb, 3, 3, 0, T(1), T(0), 0, true);         // k 0, beta 0: zeros
            }
    }
}

}  // namespace

TEST_CASE("sgemm matches gemm_ref at every ISA level", "[kernels][gemm]") { check_all_levels<float>(); }
TEST_CASE("dgemm matches gemm_ref at every ISA level", "[kernels][gemm]") { check_all_levels<double>(); }

TEST_CASE("strided-batched GEMM matches one gemm_ref per product", "[kernels][gemm]") {
    IsaScope restore;
    const int64_t m = 19, n = 33, k = 21, batch = 4;
    const auto a = lcg<float>(size_t(batch * m * k), 4), b = lcg<float>(size_t(k * n), 5);
    for (int level = 0; level <= int(detected_isa()); ++level) {
        set_isa(Isa(level));
        // b is shared by every product (stride 0), as a broadcast batch dim.
        std::vector<float> c(size_t(batch * m * n)), want(c.size());
        sgemm_strided_batched(false, true, m, n, k, 1.0f, a.data(), k, m * k, b.data(), k, 0, 0.0f, c.data(), n,
                              m * n, batch);
        for (int64_t i = 0; i < batch; ++i)
            gemm_ref<float>(false, true, m, n, k, 1.0f, a.data() + i * m * k, k, b.data(), k, 0.0f,
                            want.data() + i * m * n, n);
        for (size_t i = 0; i < c.size(); ++i) REQUIRE(std::abs(c[i] - want[i]) <= 1e-4f * (1 + std::abs(want[i])));
    }
}

TEST_CASE("GEMM results do not depend on the thread count", "[kernels][gemm][threads]") {
    const int64_t m = 301, n = 257, k = 300;
    const auto a = lcg<float>(size_t(m * k), 6), b = lcg<float>(size_t(k * n), 7);
    std::vector<float> one(size_t(m * n)), two(size_t(m * n));
    const int before = get_num_threads();
    set_num_threads(1);
    sgemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, one.data(), n);
    set_num_threads(2);
    sgemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, two.data(), n);
    set_num_threads(before);
    CHECK(one == two);
}
