// The BLIS-structured GEMM at sizes the triple loop cannot check quickly, and its
// other promises:
//   - large products by projection onto a random vector t (BLIS's check):
//       C·t  against  beta·(C0·t) + alpha·A·(B·t),  in double, per row of C,
//     with tolerance rtol·sqrt(k)·(the same with absolute values);
//   - gemm_bf16 against float32 references: tight against sgemm on the widened
//     bf16 inputs, bf16-loose against the unrounded float inputs;
//   - strided batches, split per product across threads or not;
//   - results bit-identical for 1, 2 and 3 threads, on every path (packed, A or
//     B in place, batched).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
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
std::vector<T> uniform(size_t n, uint64_t seed) {  // values in [-1, 1), reproducible
    std::vector<T> v(n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 777;
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
struct ThreadScope {
    int saved = get_num_threads();
    ~ThreadScope() { set_num_threads(saved); }
};

// y[rows] = op(X)[rows, cols] · v[cols] in double (X row-major with ld, transposed
// when trans), optionally on |X| and |v|.
template <typename T>
std::vector<double> matvec(bool trans, const T* x, int64_t ld, int64_t rows, int64_t cols, const std::vector<double>& v,
                           bool absolute) {
    std::vector<double> y(size_t(rows), 0.0);
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
            const double xv = double(trans ? x[j * ld + i] : x[i * ld + j]);
            y[size_t(i)] += absolute ? std::abs(xv) * std::abs(v[size_t(j)]) : xv * v[size_t(j)];
        }
    return y;
}

// One large product checked by projection.
template <typename T>
void check_projection(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, T beta) {
    const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
    const auto a = uniform<T>(size_t((ta ? k : m) * lda), 11), b = uniform<T>(size_t((tb ? n : k) * ldb), 12);
    const auto c0 = uniform<T>(size_t(m * ldc), 13);
    std::vector<T> c = c0;
    gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
    const std::vector<double> t = uniform<double>(size_t(n), 14);
    const auto bt = matvec(tb, b.data(), ldb, k, n, t, false), bt_abs = matvec(tb, b.data(), ldb, k, n, t, true);
    const auto abt = matvec(ta, a.data(), lda, m, k, bt, false), abt_abs = matvec(ta, a.data(), lda, m, k, bt_abs, true);
    const auto c0t = matvec(false, c0.data(), ldc, m, n, t, false), c0t_abs = matvec(false, c0.data(), ldc, m, n, t, true);
    const auto ct = matvec(false, c.data(), ldc, m, n, t, false);
    const double rt = 8 * std::numeric_limits<T>::epsilon() * std::sqrt(double(k));
    for (int64_t i = 0; i < m; ++i) {
        const double want = double(beta) * c0t[size_t(i)] + double(alpha) * abt[size_t(i)];
        const double scale = std::abs(double(beta)) * c0t_abs[size_t(i)] + std::abs(double(alpha)) * abt_abs[size_t(i)];
        if (!(std::abs(ct[size_t(i)] - want) <= rt * scale))
            FAIL((std::is_same_v<T, float> ? "sgemm " : "dgemm ")
                 << isa_name(active_isa()) << " ta=" << ta << " tb=" << tb << " " << m << "x" << n << "x" << k
                 << ": (C·t)[" << i << "] = " << ct[size_t(i)] << ", want " << want << " (tol " << rt * scale << ")");
    }
}

}  // namespace

TEST_CASE("large sgemm/dgemm pass the projection check", "[kernels][gemm][blis][large]") {
    for (bool ta : {false, true})
        for (bool tb : {false, true}) check_projection<float>(ta, tb, 1000, 1200, 1100, 0.5f, -1.0f);
    check_projection<float>(false, false, 12544 / 4, 64, 576, 1.0f, 0.0f);  // A read in place
    check_projection<float>(false, false, 64, 256, 784, 1.0f, 1.0f);        // B read in place
    check_projection<double>(false, true, 700, 500, 900, 2.0, 0.5);
    IsaScope restore;
    set_isa(Isa::Scalar);  // the reference micro-kernel through the whole driver
    check_projection<float>(true, false, 300, 200, 600, 1.0f, 0.25f);
    if (detected_isa() >= Isa::Avx2) {
        set_isa(Isa::Avx2);
        check_projection<float>(false, true, 500, 700, 600, 1.0f, 0.0f);
        check_projection<double>(true, true, 400, 300, 500, 1.0, 1.0);
    }
}

namespace {

// gemm_bf16 on bf16 copies of float inputs, against (1) sgemm on the widened
// bf16 values: products are exact in float32, only the addition order differs;
// (2) gemm_ref on the original floats: the inputs' bf16 rounding dominates.
void check_bf16(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float beta) {
    const int64_t lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
    const auto af = uniform<float>(size_t((ta ? k : m) * lda), 21), bf = uniform<float>(size_t((tb ? n : k) * ldb), 22);
    std::vector<uint16_t> a(af.size()), b(bf.size());
    std::vector<float> aw(af.size()), bw(bf.size());
    for (size_t i = 0; i < af.size(); ++i) {
        uint32_t u;
        std::memcpy(&u, &af[i], 4);
        a[i] = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        u = uint32_t(a[i]) << 16;
        std::memcpy(&aw[i], &u, 4);
    }
    for (size_t i = 0; i < bf.size(); ++i) {
        uint32_t u;
        std::memcpy(&u, &bf[i], 4);
        b[i] = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        u = uint32_t(b[i]) << 16;
        std::memcpy(&bw[i], &u, 4);
    }
    const auto c0 = uniform<float>(size_t(m * ldc), 23);
    std::vector<float> c = c0, widened = c0, exact = c0;
    gemm_bf16(ta, tb, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
    gemm_ref<float>(ta, tb, m, n, k, 1.0f, aw.data(), lda, bw.data(), ldb, beta, widened.data(), ldc);
    gemm_ref<float>(ta, tb, m, n, k, 1.0f, af.data(), lda, bf.data(), ldb, beta, exact.data(), ldc);
    const double sk = std::sqrt(double(k)), f32 = 8 * 0x1p-23 * sk, bf16 = 4 * 0x1p-8 * sk;  // bf16 eps 2^-7
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            const size_t idx = size_t(i * ldc + j);
            // |terms| <= 1 each: sqrt(k)/3 is their typical sum of squares' root.
            const double scale = 1 + sk / 3 + std::abs(double(beta) * c0[idx]);
            INFO("gemm_bf16 " << isa_name(active_isa()) << " ta=" << ta << " tb=" << tb << " " << m << "x" << n << "x"
                              << k << " C[" << i << ", " << j << "]");
            REQUIRE(std::abs(c[idx] - widened[idx]) <= f32 * scale);
            REQUIRE(std::abs(c[idx] - exact[idx]) <= bf16 * scale);
        }
}

}  // namespace

TEST_CASE("gemm_bf16 matches float32 references at every ISA level", "[kernels][gemm][bf16]") {
    IsaScope restore;
    INFO("AVX512_BF16 on this CPU: " << cpu_has_avx512_bf16());
    for (int l = 0; l <= int(detected_isa()); ++l) {
        set_isa(Isa(l));
        for (bool ta : {false, true})
            for (bool tb : {false, true}) {
                check_bf16(ta, tb, 17, 33, 7, 0.0f);      // odd k: the last pair half empty
                check_bf16(ta, tb, 129, 63, 1025, 0.5f);  // k over two KC slices
                check_bf16(ta, tb, 1, 1, 1, 1.0f);
            }
    }
}

TEST_CASE("strided-batched GEMM equals one GEMM per product", "[kernels][gemm][blis][batched]") {
    ThreadScope restore;
    const int64_t m = 37, n = 45, k = 29;
    for (int64_t batch : {int64_t(1), int64_t(3), int64_t(4), int64_t(20)})
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            const auto a = uniform<float>(size_t(batch * m * k), 31), b = uniform<float>(size_t(k * n), 32);
            std::vector<float> c = uniform<float>(size_t(batch * m * n), 33), want = c;
            sgemm_strided_batched(true, false, m, n, k, 0.5f, a.data(), m, m * k, b.data(), n, 0, 2.0f, c.data(), n,
                                  m * n, batch);
            for (int64_t i = 0; i < batch; ++i)
                sgemm(true, false, m, n, k, 0.5f, a.data() + i * m * k, m, b.data(), n, 2.0f, want.data() + i * m * n, n);
            INFO("batch " << batch << ", threads " << threads);
            CHECK(c == want);  // the same driver per product: bit-identical
        }
}

TEST_CASE("GEMM results are bit-identical for 1, 2 and 3 threads", "[kernels][gemm][blis][threads]") {
    ThreadScope restore;
    struct Shape {
        bool ta, tb;
        int64_t m, n, k, batch;
    };
    const Shape shapes[] = {{false, false, 301, 257, 300, 1},  {true, true, 129, 520, 700, 1},
                            {false, false, 2000, 64, 576, 1},  {false, false, 64, 784, 256, 1},
                            {false, true, 64, 1000, 300, 1},   {false, false, 96, 96, 96, 6},
                            {true, false, 700, 33, 1300, 1},   {false, false, 14, 4200, 20, 1}};
    for (const Shape& s : shapes) {
        const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
        const auto a = uniform<float>(size_t(s.m * s.k * s.batch), 41), b = uniform<float>(size_t(s.k * s.n * s.batch), 42);
        std::vector<float> results[3];
        for (int threads = 1; threads <= 3; ++threads) {
            set_num_threads(threads);
            std::vector<float>& c = results[threads - 1];
            c = uniform<float>(size_t(s.m * s.n * s.batch), 43);
            sgemm_strided_batched(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), lda, s.m * s.k, b.data(), ldb, s.k * s.n,
                                  0.5f, c.data(), s.n, s.m * s.n, s.batch);
        }
        INFO("ta=" << s.ta << " tb=" << s.tb << " " << s.m << "x" << s.n << "x" << s.k << " batch " << s.batch);
        CHECK(std::memcmp(results[0].data(), results[1].data(), results[0].size() * 4) == 0);
        CHECK(std::memcmp(results[0].data(), results[2].data(), results[0].size() * 4) == 0);
    }
}
