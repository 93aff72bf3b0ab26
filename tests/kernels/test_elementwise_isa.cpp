// Every ISA level this CPU has against the scalar reference build, for the
// binary and unary elementwise kernels and the activations' backward kernels:
// sizes 0, 1, 3, 17, 63, 129, 1000 (vector tails and remainders), unit and
// non-unit strides, float32 and float64. Agreement is |got - ref| <= atol +
// rtol |ref| with rtol a few times the dtype's epsilon (the vector builds
// contract a*b+c into FMAs, so the last bits may differ); a mismatch names the
// kernel, ISA, size, strides and first bad index. The accuracy of the
// reference itself is checked against libm in tests/core/test_unary.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "graft.h"
#include "kernels/cpu/elementwise/binary.h"
#include "kernels/cpu/elementwise/unary.h"
#include "kernels/cpu/isa.h"

using namespace graft;
using namespace graft::kernels;
using namespace graft::kernels::cpu;

namespace {

constexpr int64_t kSizes[] = {0, 1, 3, 17, 63, 129, 1000};

const char* const kUnaryNames[] = {"neg", "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sign", "clamp",
                                   "relu", "relu6", "leaky_relu", "gelu", "gelu_tanh", "silu", "sigmoid",
                                   "tanh", "softplus", "hardswish"};
constexpr int kNumUnary = int(std::size(kUnaryNames));
const char* const kGradNames[] = {"abs", "clamp", "relu", "relu6", "leaky_relu", "gelu", "gelu_tanh",
                                  "silu", "sigmoid", "tanh", "softplus", "hardswish"};
constexpr int kNumGrad = int(std::size(kGradNames));
const char* const kBinaryNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
constexpr int kNumBinary = int(std::size(kBinaryNames));

// The ISA levels to compare with the reference: every vector level the CPU has.
std::vector<Isa> vector_levels() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::Avx2, Isa::Avx512})
        if (int(isa) <= int(detected_isa())) out.push_back(isa);
    return out;
}

template <typename T>
std::vector<T> random_values(size_t n, double lo, double hi, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<T> v(n);
    for (T& x : v) x = T(dist(gen));
    return v;
}

// Inputs for a unary op: its domain, with the awkward values it must handle mixed in.
template <typename T>
std::vector<T> unary_inputs(UnaryOp op, size_t n, uint32_t seed) {
    const bool positive = op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt;
    std::vector<T> v = random_values<T>(n, positive ? 1e-3 : -12.0, positive ? 50.0 : 12.0, seed);
    const T special[] = {T(0), T(-0.0), T(1), T(-1), T(-3), T(3), T(6), T(30), T(-30), T(100), T(-100),
                         std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
                         std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::denorm_min()};
    for (size_t i = 0; i < n; i += 7) v[i] = special[(i / 7) % std::size(special)];
    return v;
}

template <typename T>
struct Tolerance {
    double rtol = 8 * double(std::numeric_limits<T>::epsilon());
    double atol = 4 * double(std::numeric_limits<T>::epsilon());
};

// The first index where got and ref disagree (NaN matches NaN, infinities must be equal), or -1.
template <typename T>
int64_t first_mismatch(const std::vector<T>& got, const std::vector<T>& ref, const Tolerance<T>& tol,
                       double& max_abs, double& max_rel) {
    int64_t bad = -1;
    max_abs = max_rel = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double g = double(got[i]), r = double(ref[i]);
        if (std::isnan(r) && std::isnan(g)) continue;
        if (std::isinf(r) || std::isinf(g)) {
            if (g != r && bad < 0) bad = int64_t(i);
            continue;
        }
        const double err = std::fabs(g - r);
        max_abs = std::max(max_abs, err);
        if (r != 0) max_rel = std::max(max_rel, err / std::fabs(r));
        if (!(err <= tol.atol + tol.rtol * std::fabs(r)) && bad < 0) bad = int64_t(i);
    }
    return bad;
}

template <typename T>
void report(const std::string& kernel, Isa isa, int64_t n, int64_t sx, int64_t so, const std::vector<T>& in,
            const std::vector<T>& got, const std::vector<T>& ref, const Tolerance<T>& tol) {
    double max_abs, max_rel;
    const int64_t bad = first_mismatch(got, ref, tol, max_abs, max_rel);
    if (bad < 0) return;
    FAIL_CHECK(kernel << " " << (sizeof(T) == 4 ? "float32" : "float64") << " at " << isa_name(isa)
                      << ": size " << n << ", in stride " << sx << ", out stride " << so << ": first bad index "
                      << bad << " (in " << double(in[size_t(bad)]) << "): got " << double(got[size_t(bad)])
                      << ", reference " << double(ref[size_t(bad)]) << "; max abs error " << max_abs
                      << ", max rel error " << max_rel);
}

// Runs `loop` over n elements with input stride sx and output stride so, and
// returns the outputs (unit stride).
template <typename T>
std::vector<T> run_unary(UnaryLoop<T> loop, UnaryOp op, const std::vector<T>& in, int64_t n, int64_t sx,
                         int64_t so, const UnaryParams<T>& p) {
    std::vector<T> x(size_t(std::max<int64_t>(n * sx, 1)), T(0)), out(size_t(std::max<int64_t>(n * so, 1)), T(-7));
    for (int64_t i = 0; i < n; ++i) x[size_t(i * sx)] = in[size_t(i)];
    loop(op, n, x.data(), sx, out.data(), so, p);
    std::vector<T> r(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) r[size_t(i)] = out[size_t(i * so)];
    return r;
}

template <typename T>
UnaryParams<T> test_params() {
    UnaryParams<T> p;
    p.lo = T(-2.5);
    p.hi = T(4);
    p.slope = T(0.1);
    p.beta = T(1.5);
    p.threshold = T(10);
    return p;
}

template <typename T>
void compare_unary(Isa isa) {
    const UnaryParams<T> p = test_params<T>();
    for (int k = 0; k < kNumUnary; ++k) {
        const auto op = UnaryOp(k);
        for (int64_t n : kSizes) {
            const std::vector<T> in = unary_inputs<T>(op, size_t(n), uint32_t(k * 1000 + n));
            for (const auto& strides : {std::pair<int64_t, int64_t>{1, 1}, {3, 1}, {1, 2}, {2, 3}}) {
                const int64_t sx = strides.first, so = strides.second;
                const auto ref = run_unary(unary_loop<T>(Isa::Scalar), op, in, n, sx, so, p);
                const auto got = run_unary(unary_loop<T>(isa), op, in, n, sx, so, p);
                report(kUnaryNames[k], isa, n, sx, so, in, got, ref, Tolerance<T>{});
            }
        }
    }
}

template <typename T>
void compare_unary_grad(Isa isa) {
    const UnaryParams<T> p = test_params<T>();
    for (int k = 0; k < kNumGrad; ++k) {
        const auto op = UnaryGradOp(k);
        for (int64_t n : kSizes) {
            std::vector<T> x = random_values<T>(size_t(n), -8.0, 8.0, uint32_t(k * 77 + n));
            const std::vector<T> g = random_values<T>(size_t(n), -2.0, 2.0, uint32_t(k * 91 + n));
            for (const auto& strides : {std::pair<int64_t, int64_t>{1, 1}, {1, 0}, {2, 3}}) {
                const int64_t sx = strides.first, sg = strides.second;  // clang 14 cannot capture bindings
                auto run = [&](Isa level) {
                    std::vector<T> xs(size_t(std::max<int64_t>(n * sx, 1))), gs(size_t(std::max<int64_t>(n * sg, 1))),
                        out(size_t(std::max<int64_t>(n, 1)));
                    for (int64_t i = 0; i < n; ++i) {
                        xs[size_t(i * sx)] = x[size_t(i)];
                        gs[size_t(i * sg)] = g[size_t(i)];
                    }
                    unary_grad_loop<T>(level)(op, n, xs.data(), sx, gs.data(), sg, out.data(), 1, p);
                    out.resize(size_t(n));
                    return out;
                };
                // Backward values cross zero (gelu's near x = -0.75): an absolute floor of about 1e-6 of their scale.
                Tolerance<T> tol;
                tol.atol = 16 * double(std::numeric_limits<T>::epsilon());
                report(std::string(kGradNames[k]) + " backward", isa, n, sx, sg, x, run(isa), run(Isa::Scalar), tol);
            }
        }
    }
}

template <typename T>
void compare_binary(Isa isa) {
    for (int k = 0; k < kNumBinary; ++k) {
        const auto op = BinaryOp(k);
        const bool positive = op == BinaryOp::Pow || op == BinaryOp::Div;
        for (int64_t n : kSizes) {
            const auto a = random_values<T>(size_t(n), positive ? 0.1 : -5.0, 5.0, uint32_t(k * 13 + n));
            const auto b =
                random_values<T>(size_t(n), positive ? 0.1 : -5.0, positive ? 3.0 : 5.0, uint32_t(k * 17 + n));
            using Strides3 = std::tuple<int64_t, int64_t, int64_t>;
            for (const Strides3& strides : {Strides3{1, 1, 1}, {1, 0, 1}, {0, 1, 1}, {2, 3, 2}}) {
                const auto [sa_, sb_, so_] = strides;
                const int64_t sa = sa_, sb = sb_, so = so_;
                auto run = [&](Isa level) {
                    std::vector<T> as(size_t(std::max<int64_t>(n * sa, 1))), bs(size_t(std::max<int64_t>(n * sb, 1))),
                        out(size_t(std::max<int64_t>(n * so, 1)));
                    for (int64_t i = 0; i < n; ++i) {
                        as[size_t(i * sa)] = a[size_t(i)];
                        bs[size_t(i * sb)] = b[size_t(i)];
                    }
                    binary_loop<T>(level)(op, n, as.data(), sa, bs.data(), sb, out.data(), so, T(0.75));
                    std::vector<T> r(static_cast<size_t>(n));
                    for (int64_t i = 0; i < n; ++i) r[size_t(i)] = out[size_t(i * so)];
                    return r;
                };
                report(kBinaryNames[k], isa, n, sa, so, a, run(isa), run(Isa::Scalar), Tolerance<T>{});
            }
        }
    }
}

// Restores the active ISA level when a test leaves, whatever happens inside.
struct IsaGuard {
    Isa saved = active_isa();
    ~IsaGuard() { set_isa(saved); }
};

}  // namespace

TEST_CASE("unary kernels agree with the scalar reference at every ISA level", "[kernels][isa][unary]") {
    if (vector_levels().empty()) WARN("this CPU has no AVX2: only the reference build runs");
    for (Isa isa : vector_levels()) {
        compare_unary<float>(isa);
        compare_unary<double>(isa);
    }
}

TEST_CASE("activation backward kernels agree with the scalar reference at every ISA level", "[kernels][isa][unary]") {
    for (Isa isa : vector_levels()) {
        compare_unary_grad<float>(isa);
        compare_unary_grad<double>(isa);
    }
}

TEST_CASE("binary kernels agree with the scalar reference at every ISA level", "[kernels][isa][binary]") {
    for (Isa isa : vector_levels()) {
        compare_binary<float>(isa);
        compare_binary<double>(isa);
    }
}

TEST_CASE("ops give the same results at every ISA level (set_isa)", "[kernels][isa]") {
    IsaGuard guard;
    const Tensor x = linspace(-6.0, 6.0, 1001);
    set_isa(Isa::Scalar);
    const auto ref_gelu = gelu(x).to_vector<float>();
    const auto ref_add = add(x, mul(x, x)).to_vector<float>();
    for (Isa isa : vector_levels()) {
        set_isa(isa);
        CHECK(active_isa() == isa);
        const auto got = gelu(x).to_vector<float>();
        for (size_t i = 0; i < got.size(); ++i) {
            INFO("gelu at " << isa_name(isa) << ", index " << i);
            REQUIRE(std::fabs(got[i] - ref_gelu[i]) <= 1e-6f + 1e-6f * std::fabs(ref_gelu[i]));
        }
        CHECK(add(x, mul(x, x)).to_vector<float>() == ref_add);
    }
}
