// The BLIS-structured GEMM (kernels/cpu/gemm/), tested as BLIS tests itself:
//   - each micro-kernel of the blocking table alone against gemm_ukernel_ref for
//     every m <= MR, n <= NR, k in {0, 1, 7, KC+1}, at every ISA level this CPU has
//     (and its strided sibling on an A read in place), and the AVX-512 packers
//     against the reference packers;
//   - the whole GEMM against the naive triple loop at small sizes: every transpose
//     pair, padded leading dimensions, sizes 0, 1, 3, 17, 63, 129 and one past each
//     block size of the table row (MR, NR, MC, KC, NC, the in-place thresholds);
//   - large GEMMs by projection onto a random vector: C·t against
//     beta·C0·t + alpha·A·(B·t), computed in double;
//   - bf16 GEMM against float32 references; results identical for any thread count.
// Tolerances: atol + rtol·|ref|, rtol a few dtype epsilons times sqrt(k).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm/gemm_kernel.h"
#include "kernels/cpu/isa.h"
#include "kernels/parallel.h"

using namespace graft;
using namespace graft::kernels;
using namespace graft::kernels::cpu;

namespace {

template <typename T>
std::vector<T> uniform(size_t n, uint64_t seed) {  // values in [-1, 1), reproducible
    std::vector<T> v(n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 12345;
    for (T& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = T(2.0 * double(s >> 11) / double(1ull << 53) - 1.0);
    }
    return v;
}

uint16_t to_bf16(float f) {  // round to nearest even, as core's BFloat16
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

struct IsaScope {  // restores the ISA level on scope exit
    Isa saved = active_isa();
    ~IsaScope() { set_isa(saved); }
};
std::vector<Isa> levels() {
    std::vector<Isa> out;
    for (int l = 0; l <= int(detected_isa()); ++l) out.push_back(Isa(l));
    return out;
}

template <typename T> constexpr double eps() { return std::numeric_limits<T>::epsilon(); }
// rtol for a k-term dot product in T: a few epsilons times sqrt(k).
template <typename T> double rtol(int64_t k) { return 8 * eps<T>() * std::sqrt(double(std::max<int64_t>(k, 1))); }

// Compares got with want over rows x cols (leading dimension ld): |got - want| <=
// atol + rt·scale, scale the same product on absolute values (what rounding
// errors are proportional to, even where the sum cancels). Elements outside
// (padding) must be bit-for-bit unchanged. Names the first bad element.
template <typename T>
void expect_close(const std::string& what, const std::vector<T>& got, const std::vector<T>& want,
                  const std::vector<T>& scale, int64_t rows, int64_t cols, int64_t ld, double atol, double rt) {
    double worst = 0;
    const int64_t ld1 = std::max<int64_t>(ld, 1);
    for (size_t idx = 0; idx < got.size(); ++idx) {
        const int64_t i = int64_t(idx) / ld1, j = int64_t(idx) % ld1;
        if (i >= rows || j >= cols) {
            if (std::memcmp(&got[idx], &want[idx], sizeof(T)) != 0) FAIL(what << ": padding changed at " << idx);
            continue;
        }
        const double err = std::abs(double(got[idx]) - double(want[idx])), tol = atol + rt * double(scale[idx]);
        worst = std::max(worst, err);
        if (!(err <= tol))
            FAIL(what << ": C[" << i << ", " << j << "] = " << got[idx] << ", want " << want[idx] << " (abs err "
                      << err << ", tol " << tol << ")");
    }
    SUCCEED(what << ": max abs err " << worst);
}

template <typename T>
std::vector<T> abs_of(std::vector<T> v) {
    for (T& x : v) x = std::abs(x);
    return v;
}

// ---- micro-kernels alone -------------------------------------------------------------

template <typename T>
GemmUkernel<T, T> ref_kernel(int64_t mr, int64_t nr) {  // the reference of each table shape
    if constexpr (std::is_same_v<T, float>) {
        if (mr == 4 && nr == 8) return gemm_ukernel_ref<float, 4, 8>;
        if (mr == 6 && nr == 16) return gemm_ukernel_ref<float, 6, 16>;
        if (mr == 14 && nr == 32) return gemm_ukernel_ref<float, 14, 32>;
    } else {
        if (mr == 4 && nr == 4) return gemm_ukernel_ref<double, 4, 4>;
        if (mr == 6 && nr == 8) return gemm_ukernel_ref<double, 6, 8>;
        if (mr == 14 && nr == 16) return gemm_ukernel_ref<double, 14, 16>;
    }
    return nullptr;
}

// One micro-kernel call against the reference on the same panels; `call` runs
// the kernel under test on (m, n, k, alpha, beta, c, rs_c, cs_c).
template <typename In, typename Out, typename Call>
void check_tile(const std::string& name, int64_t mr, int64_t nr, int64_t m, int64_t n, int64_t k, Out alpha,
                Out beta, bool col_major, GemmUkernel<In, Out> ref, const In* ap, const In* bp, const Call& call) {
    const int64_t rs_c = col_major ? 1 : nr + 3, cs_c = col_major ? mr + 2 : 1;  // C tile inside a bigger array
    const size_t size = size_t(col_major ? nr * cs_c : mr * rs_c);
    std::vector<Out> c = uniform<Out>(size, uint64_t(m * 1000 + n * 10 + k));
    if (beta == Out(0)) std::fill(c.begin(), c.end(), std::numeric_limits<Out>::quiet_NaN());  // never read
    std::vector<Out> want = c;
    call(m, n, k, alpha, beta, c.data(), rs_c, cs_c);
    ref(m, n, k, alpha, ap, bp, beta, want.data(), rs_c, cs_c);
    const std::string what = name + " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" +
                             std::to_string(k) + " beta=" + std::to_string(double(beta)) + (col_major ? " colmajor" : "");
    for (size_t idx = 0; idx < size; ++idx) {
        const int64_t i = col_major ? int64_t(idx) % cs_c : int64_t(idx) / rs_c;
        const int64_t j = col_major ? int64_t(idx) / cs_c : int64_t(idx) % rs_c;
        const bool inside = i < m && j < n;
        if (!inside) {
            if (std::memcmp(&c[idx], &want[idx], sizeof(Out)) != 0) FAIL(what << ": wrote outside m x n at " << idx);
            continue;
        }
        const double tol = 1e-6 * std::is_same_v<Out, float> + rtol<Out>(k) * (1 + std::abs(double(want[idx])));
        if (!(std::abs(double(c[idx]) - double(want[idx])) <= tol))
            FAIL(what << ": C(" << i << ", " << j << ") = " << c[idx] << ", want " << want[idx]);
    }
}

template <typename T>
void check_ukernels_of(const GemmConfig<T, T>& cfg) {
    const auto ref = ref_kernel<T>(cfg.mr, cfg.nr);
    REQUIRE(ref != nullptr);
    for (int64_t k : {int64_t(0), int64_t(1), int64_t(7), cfg.kc + 1}) {
        const auto ap = uniform<T>(size_t(cfg.mr * k), 1), bp = uniform<T>(size_t(k * cfg.nr), 2);
        for (int64_t m = 1; m <= cfg.mr; ++m)
            for (int64_t n = 1; n <= cfg.nr; ++n)
                for (T beta : {T(0), T(1), T(-0.5)}) {
                    const bool col_major = (m + n) % 5 == 0;
                    check_tile<T, T>(cfg.name, cfg.mr, cfg.nr, m, n, k, T(0.75), beta, col_major, ref, ap.data(),
                                     bp.data(), [&](int64_t mm, int64_t nn, int64_t kk, T al, T be, T* c, int64_t rs,
                                                    int64_t cs) { cfg.ukernel(mm, nn, kk, al, ap.data(), bp.data(), be, c, rs, cs); });
                }
    }
}

// The strided sibling on A read in place (A [MR, k] with a row stride, or its
// transpose), B packed, against the reference on the equivalent packed A panel.
template <typename T>
void check_strided_ukernel_of(const GemmConfig<T, T>& cfg) {
    if (!cfg.ukernel_strided) return;
    const auto ref = ref_kernel<T>(cfg.mr, cfg.nr);
    for (int64_t k : {int64_t(0), int64_t(1), int64_t(7), cfg.kc + 1})
        for (bool trans_a : {false, true}) {
            const int64_t lda = trans_a ? cfg.mr + 3 : k + 5;
            const auto a = uniform<T>(size_t((trans_a ? k : cfg.mr) * lda + 1), 3);
            const auto bp = uniform<T>(size_t(k * cfg.nr), 4);
            const int64_t rs_a = trans_a ? 1 : lda, cs_a = trans_a ? lda : 1;
            std::vector<T> ap(size_t(cfg.mr * k));
            for (int64_t p = 0; p < k; ++p)
                for (int64_t i = 0; i < cfg.mr; ++i) ap[size_t(p * cfg.mr + i)] = a[size_t(i * rs_a + p * cs_a)];
            for (int64_t m = 1; m <= cfg.mr; ++m)
                for (int64_t n = 1; n <= cfg.nr; ++n)
                    check_tile<T, T>(std::string(cfg.name) + " strided", cfg.mr, cfg.nr, m, n, k, T(1), T(0.5),
                                     n % 5 == 0, ref, ap.data(), bp.data(),
                                     [&](int64_t mm, int64_t nn, int64_t kk, T al, T be, T* c, int64_t rs, int64_t cs) {
                                         cfg.ukernel_strided(mm, nn, kk, al, a.data(), rs_a, cs_a, bp.data(), be, c,
                                                             rs, cs);
                                     });
        }
}

}  // namespace

TEST_CASE("GEMM micro-kernels match gemm_ukernel_ref for every m, n, k", "[kernels][gemm][ukernel]") {
    for (Isa isa : levels()) {
        INFO("isa " << isa_name(isa));
        check_ukernels_of<float>(gemm_config_f32(isa));
        check_ukernels_of<double>(gemm_config_f64(isa));
        check_strided_ukernel_of<float>(gemm_config_f32(isa));
        check_strided_ukernel_of<double>(gemm_config_f64(isa));
    }
}

TEST_CASE("bf16 micro-kernel matches gemm_ukernel_bf16_ref", "[kernels][gemm][ukernel][bf16]") {
    const GemmConfig<bf16_bits, float>* cfg = gemm_config_bf16(Isa::Avx512);
    if (!cfg || detected_isa() != Isa::Avx512) {
        SUCCEED("no AVX512_BF16 on this CPU: gemm_bf16 uses the float32 fallback (tested below)");
        return;
    }
    for (int64_t k : {int64_t(0), int64_t(1), int64_t(7), cfg->kc + 1}) {
        const int64_t pairs = (k + 1) / 2;
        std::vector<uint16_t> ap(size_t(pairs * 2 * cfg->mr)), bp(size_t(pairs * 2 * cfg->nr));
        const auto af = uniform<float>(ap.size(), 5), bf = uniform<float>(bp.size(), 6);
        for (size_t i = 0; i < ap.size(); ++i) ap[i] = to_bf16(af[i]);
        for (size_t i = 0; i < bp.size(); ++i) bp[i] = to_bf16(bf[i]);
        for (int64_t m = 1; m <= cfg->mr; ++m)
            for (int64_t n = 1; n <= cfg->nr; ++n)
                for (float beta : {0.0f, 1.0f}) {
                    check_tile<bf16_bits, float>(cfg->name, cfg->mr, cfg->nr, m, n, k, 1.5f, beta, n % 7 == 0,
                                                 gemm_ukernel_bf16_ref<14, 32>, ap.data(), bp.data(),
                                                 [&](int64_t mm, int64_t nn, int64_t kk, float al, float be, float* c,
                                                     int64_t rs, int64_t cs) {
                                                     cfg->ukernel(mm, nn, kk, al, ap.data(), bp.data(), be, c, rs, cs);
                                                 });
                }
    }
}

TEST_CASE("AVX-512 packers match the reference packers exactly", "[kernels][gemm][pack]") {
    if (detected_isa() != Isa::Avx512) {
        SUCCEED("no AVX-512 on this CPU");
        return;
    }
    const int64_t ld = 80, r0 = 3, p0 = 2;  // a block inside a bigger matrix
    const auto x = uniform<float>(size_t(ld * ld), 51);
    for (bool trans : {false, true})
        for (int64_t count : {1, 13, 14, 15, 29, 32, 33, 64})
            for (int64_t kc : {1, 7, 16, 17, 40}) {
                INFO("trans " << trans << ", rows/cols " << count << ", kc " << kc);
                const auto run = [&](auto pack, int64_t r) {
                    std::vector<float> out(size_t((count + r - 1) / r * r * kc), -7.0f);
                    pack(trans, x.data(), ld, r0, count, p0, kc, out.data());
                    return out;
                };
                CHECK(run(gemm_pack_a_avx512<14>, 14) == run(gemm_pack_a<float, 14>, 14));
                CHECK(run(gemm_pack_b_avx512<32>, 32) == run(gemm_pack_b<float, 32>, 32));
            }
}

// ---- whole GEMM against the triple loop ----------------------------------------------

namespace {

template <typename T>
void check_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, T beta, int64_t pad) {
    const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    const auto a = uniform<T>(size_t(std::max<int64_t>(1, (ta ? k : m) * lda)), 7);
    const auto b = uniform<T>(size_t(std::max<int64_t>(1, (tb ? n : k) * ldb)), 8);
    std::vector<T> c = uniform<T>(size_t(std::max<int64_t>(1, m * ldc)), 9);
    if (beta == T(0)) std::fill(c.begin(), c.end(), std::numeric_limits<T>::quiet_NaN());
    std::vector<T> want = c;
    gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
    gemm_ref<T>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
    std::vector<T> scale = abs_of(want);  // beta 0: NaN C0 never enters the scale
    if (beta != T(0)) scale = abs_of(uniform<T>(c.size(), 9));
    gemm_ref<T>(ta, tb, m, n, k, std::abs(alpha), abs_of(a).data(), lda, abs_of(b).data(), ldb, std::abs(beta),
                scale.data(), ldc);
    std::ostringstream what;
    what << (std::is_same_v<T, float> ? "sgemm " : "dgemm ") << isa_name(active_isa()) << " ta=" << ta
         << " tb=" << tb << " m=" << m << " n=" << n << " k=" << k << " pad=" << pad;
    expect_close<T>(what.str(), c, want, scale, m, n, ldc, 1e-30, rtol<T>(k));
}

// Sizes that cross every boundary of a table row: one past MR, NR, MC, KC, NC and
// the in-place thresholds, each with the other two dimensions small.
template <typename T>
void check_block_edges(const GemmConfig<T, T>& cfg) {
    const int64_t kc_in = cfg.kc_a_inplace ? cfg.kc_a_inplace + 1 : 1;
    const int64_t cases[][3] = {{cfg.mr + 1, cfg.nr + 1, 5},   {cfg.mc + 1, 3, 9},       {2 * cfg.mc + 1, 17, 3},
                                {5, 3, cfg.kc + 1},           {3, cfg.nc + 1, 4},       {9, 33, 2 * cfg.kc + 1},
                                {20, cfg.a_inplace_n + 1, 9},
                                {20, cfg.a_inplace_n, 9},     {31, 40, kc_in}};
    for (const auto& s : cases)
        for (bool ta : {false, true})
            for (bool tb : {false, true}) check_gemm<T>(ta, tb, s[0], s[1], s[2], T(1.25), T(-0.5), 1);
}

template <typename T>
void check_small_gemms() {
    IsaScope restore;
    const int64_t sizes[] = {0, 1, 3, 17, 63, 129};
    for (Isa isa : levels()) {
        set_isa(isa);
        for (bool ta : {false, true})
            for (bool tb : {false, true})
                for (int64_t m : sizes)
                    for (int64_t n : sizes)
                        for (int64_t k : {int64_t(0), int64_t(1), int64_t(17), int64_t(129)})
                            check_gemm<T>(ta, tb, m, n, k, T(1), (m + n + k) % 2 ? T(0) : T(0.5), (m + k) % 3);
        if constexpr (std::is_same_v<T, float>) check_block_edges<T>(gemm_config_f32(isa));
        else check_block_edges<T>(gemm_config_f64(isa));
    }
}

}  // namespace

TEST_CASE("sgemm (BLIS driver) matches the triple loop at every ISA level", "[kernels][gemm][blis]") {
    check_small_gemms<float>();
}
TEST_CASE("dgemm (BLIS driver) matches the triple loop at every ISA level", "[kernels][gemm][blis]") {
    check_small_gemms<double>();
}
