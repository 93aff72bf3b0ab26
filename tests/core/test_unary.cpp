// Unary ops and activations: forward values against long double libm (float32
// and float64, on a grid and at special values), the in-place variants (with
// and without autograd), and the error messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "graft.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

using Ref = std::function<long double(long double)>;

struct ForwardCase {
    const char* name;
    std::function<Tensor(const Tensor&)> op;
    Ref ref;
    double lo, hi;  // the grid
    // float64 tolerance in ulp. The gelus' is wider: in the far negative tail the rounding of
    // their exp/erfc argument (x/sqrt 2, or u) costs about that argument's square in ulp.
    double f64_ulps = 8;
};

long double normal_cdf(long double x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
long double gelu_tanh_ref(long double x) {
    // 0.5 x (1 + tanh u) = x / (1 + exp(-2u)): the same function without cancellation for x < 0.
    const long double u = std::sqrt(2.0L / 3.14159265358979323846L) * (x + 0.044715L * x * x * x);
    return x / (1.0L + std::exp(-2.0L * u));
}
long double softplus_ref(long double x, long double beta, long double threshold) {
    return x * beta > threshold ? x : std::log1p(std::exp(beta * x)) / beta;
}

std::vector<ForwardCase> forward_cases() {
    return {
        {"neg", [](const Tensor& x) { return neg(x); }, [](long double x) { return -x; }, -10, 10},
        {"exp", [](const Tensor& x) { return exp(x); }, [](long double x) { return std::exp(x); }, -80, 80},
        {"log", [](const Tensor& x) { return log(x); }, [](long double x) { return std::log(x); }, 1e-6, 1e6},
        {"log1p", [](const Tensor& x) { return log1p(x); }, [](long double x) { return std::log1p(x); }, -0.999, 100},
        {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](long double x) { return std::sqrt(x); }, 0, 1e4},
        {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](long double x) { return 1 / std::sqrt(x); }, 1e-4, 1e4},
        {"abs", [](const Tensor& x) { return abs(x); }, [](long double x) { return std::fabs(x); }, -10, 10},
        {"sign", [](const Tensor& x) { return sign(x); },
         [](long double x) { return x > 0 ? 1.0L : x < 0 ? -1.0L : 0.0L; }, -3, 3},
        {"clamp", [](const Tensor& x) { return clamp(x, -1.5, 2.0); },
         [](long double x) { return std::min(std::max(x, -1.5L), 2.0L); }, -4, 4},
        {"relu", [](const Tensor& x) { return relu(x); }, [](long double x) { return std::max(x, 0.0L); }, -10, 10},
        {"relu6", [](const Tensor& x) { return relu6(x); },
         [](long double x) { return std::min(std::max(x, 0.0L), 6.0L); }, -10, 10},
        {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); },
         [](long double x) { return x > 0 ? x : 0.1L * x; }, -10, 10},
        {"gelu", [](const Tensor& x) { return gelu(x); }, [](long double x) { return x * normal_cdf(x); }, -12, 12,
         320},
        {"gelu_tanh", [](const Tensor& x) { return gelu(x, GeluApproximation::Tanh); }, gelu_tanh_ref, -12, 12, 320},
        {"silu", [](const Tensor& x) { return silu(x); }, [](long double x) { return x / (1 + std::exp(-x)); }, -60,
         60},
        {"sigmoid", [](const Tensor& x) { return sigmoid(x); },
         [](long double x) { return 1 / (1 + std::exp(-x)); }, -60, 60},
        {"tanh", [](const Tensor& x) { return tanh(x); }, [](long double x) { return std::tanh(x); }, -12, 12},
        {"softplus", [](const Tensor& x) { return softplus(x); },
         [](long double x) { return softplus_ref(x, 1, 20); }, -30, 30},
        {"softplus(beta 2, threshold 5)", [](const Tensor& x) { return softplus(x, 2.0, 5.0); },
         [](long double x) { return softplus_ref(x, 2, 5); }, -10, 10},
        {"hardswish", [](const Tensor& x) { return hardswish(x); },
         [](long double x) { return x * std::min(std::max(x + 3, 0.0L), 6.0L) / 6; }, -6, 6},
    };
}

// Compares op on a grid of `n` points with the long double reference, within
// rtol |ref| (rtol a few times the dtype's epsilon), ignoring errors below 100
// times the smallest normal number: gelu_tanh and silu, computed as
// x / (1 + exp(-v)), flush to 0 where exp(-v) overflows although x times the
// tiny quotient would still be just above the normal range.
template <typename T>
void check_forward(const ForwardCase& c, int64_t n, double rtol) {
    const Tensor x = linspace(c.lo, c.hi, n, dtype_of<T>::value);
    const std::vector<T> xs = x.to_vector<T>();
    const std::vector<T> got = c.op(x).template to_vector<T>();
    for (size_t i = 0; i < xs.size(); ++i) {
        const long double ref = c.ref(static_cast<long double>(xs[i]));
        const double err = double(std::fabs(static_cast<long double>(got[i]) - ref));
        if (!(err <= 100 * double(std::numeric_limits<T>::min()) + rtol * double(std::fabs(ref)))) {
            FAIL_CHECK(c.name << " " << dtype_name(dtype_of<T>::value) << " at x = " << double(xs[i]) << ": got "
                              << double(got[i]) << ", reference " << double(ref) << ", rel error "
                              << err / double(std::fabs(ref)));
            return;
        }
    }
}

}  // namespace

TEST_CASE("unary ops and activations match long double libm", "[unary][activation]") {
    // float32: the vectorised approximations are within 9 ulp (kernels/cpu/elementwise/unary_math.h),
    // and 9 ulp are at most 9 epsilon relative.
    for (const ForwardCase& c : forward_cases()) check_forward<float>(c, 4001, 10 * 1.1920929e-7);
    for (const ForwardCase& c : forward_cases()) check_forward<double>(c, 4001, c.f64_ulps * 2.220446e-16);
}

TEST_CASE("unary ops handle infinities, NaN and signed zeros like PyTorch", "[unary][activation]") {
    const float inf = std::numeric_limits<float>::infinity();
    const Tensor x = from_vector<float>({-inf, -0.0f, 0.0f, inf});
    CHECK(exp(x).to_vector<float>() == std::vector<float>{0, 1, 1, inf});
    CHECK(log(x).to_vector<float>()[1] == -inf);
    CHECK(log(x).to_vector<float>()[3] == inf);
    CHECK(std::isnan(log(from_vector<float>({-1})).item<float>()));
    CHECK(std::isnan(sqrt(from_vector<float>({-1})).item<float>()));
    CHECK(log1p(from_vector<float>({-1, inf})).to_vector<float>() == std::vector<float>{-inf, inf});
    CHECK(sigmoid(x).to_vector<float>() == std::vector<float>{0, 0.5f, 0.5f, 1});
    CHECK(tanh(x).to_vector<float>() == std::vector<float>{-1, -0.0f, 0, 1});
    CHECK(gelu(from_vector<float>({inf})).item<float>() == inf);
    CHECK(softplus(from_vector<float>({-inf, inf})).to_vector<float>() == std::vector<float>{0, inf});
    const Tensor nan = from_vector<float>({std::numeric_limits<float>::quiet_NaN()});
    for (const Tensor& r : {exp(nan), log(nan), log1p(nan), tanh(nan), sigmoid(nan), gelu(nan), silu(nan),
                            relu(nan), clamp(nan, 0.0, 1.0), softplus(nan)})
        CHECK(std::isnan(r.item<float>()));
    CHECK(sign(nan).item<float>() == 0.0f);  // as torch.sign
}

TEST_CASE("in-place unary ops write into self and bump its version", "[unary][inplace]") {
    Tensor x = linspace(-3.0, 3.0, 7);
    const Tensor expected = exp(x);
    const uint64_t before = x.version();
    CHECK(exp_(x).is_same(x));
    CHECK(x.version() > before);
    CHECK(x.to_vector<float>() == expected.to_vector<float>());

    // A transposed view: the write goes through its strides into the base.
    Tensor m = arange(0.0, 6.0, 1.0).reshape({2, 3});
    neg_(m.t());
    CHECK(m.to_vector<float>() == std::vector<float>{0, -1, -2, -3, -4, -5});
    clamp_(m, -3.5, -0.5);
    CHECK(m.to_vector<float>() == std::vector<float>{-0.5f, -1, -2, -3, -3.5f, -3.5f});

    Tensor i = from_vector<int64_t>({-2, 5});
    relu_(i);
    CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{0, 5});

    // Every in-place variant equals its out-of-place op.
    const Tensor src = linspace(-4.0, 4.0, 9);
    using Pair = std::pair<std::function<const Tensor&(const Tensor&)>, std::function<Tensor(const Tensor&)>>;
    const std::vector<Pair> pairs = {
        {[](const Tensor& t) -> const Tensor& { return abs_(t); }, [](const Tensor& t) { return abs(t); }},
        {[](const Tensor& t) -> const Tensor& { return sign_(t); }, [](const Tensor& t) { return sign(t); }},
        {[](const Tensor& t) -> const Tensor& { return relu6_(t); }, [](const Tensor& t) { return relu6(t); }},
        {[](const Tensor& t) -> const Tensor& { return leaky_relu_(t, 0.3); },
         [](const Tensor& t) { return leaky_relu(t, 0.3); }},
        {[](const Tensor& t) -> const Tensor& { return gelu_(t); }, [](const Tensor& t) { return gelu(t); }},
        {[](const Tensor& t) -> const Tensor& { return gelu_(t, GeluApproximation::Tanh); },
         [](const Tensor& t) { return gelu(t, GeluApproximation::Tanh); }},
        {[](const Tensor& t) -> const Tensor& { return silu_(t); }, [](const Tensor& t) { return silu(t); }},
        {[](const Tensor& t) -> const Tensor& { return sigmoid_(t); }, [](const Tensor& t) { return sigmoid(t); }},
        {[](const Tensor& t) -> const Tensor& { return tanh_(t); }, [](const Tensor& t) { return tanh(t); }},
        {[](const Tensor& t) -> const Tensor& { return softplus_(t, 2.0, 3.0); },
         [](const Tensor& t) { return softplus(t, 2.0, 3.0); }},
        {[](const Tensor& t) -> const Tensor& { return hardswish_(t); }, [](const Tensor& t) { return hardswish(t); }},
        {[](const Tensor& t) -> const Tensor& { return log1p_(abs_(t)); },
         [](const Tensor& t) { return log1p(abs(t)); }},
        {[](const Tensor& t) -> const Tensor& { return sqrt_(abs_(t)); }, [](const Tensor& t) { return sqrt(abs(t)); }},
        {[](const Tensor& t) -> const Tensor& { return rsqrt_(abs_(t)); },
         [](const Tensor& t) { return rsqrt(abs(t)); }},
        {[](const Tensor& t) -> const Tensor& { return log_(abs_(t)); }, [](const Tensor& t) { return log(abs(t)); }},
    };
    for (size_t k = 0; k < pairs.size(); ++k) {
        INFO("pair " << k);
        const Tensor t = src.clone();
        pairs[k].first(t);
        CHECK(t.to_vector<float>() == pairs[k].second(src).to_vector<float>());
    }
}

TEST_CASE("in-place unary ops under autograd take over the history", "[unary][inplace][autograd]") {
    Tensor x = from_vector<double>({-1.0, 0.5, 2.0}).requires_grad_();
    Tensor y = mul(x, 1.0);  // a non-leaf
    sigmoid_(y);
    y.sum().backward();
    const auto s = sigmoid(x.detach()).to_vector<double>();
    const auto g = x.grad().to_vector<double>();
    for (size_t i = 0; i < s.size(); ++i) CHECK(g[i] == Approx(s[i] * (1 - s[i])).epsilon(1e-12));

    // A leaf that requires grad may not be modified in place.
    CHECK_THROWS_WITH(relu_(x), Contains("relu_") && Contains("leaf"));

    // Writing over an output that a backward saved is caught at backward time.
    Tensor z = exp(x);
    exp_(z);
    CHECK_THROWS_WITH(z.sum().backward(), Contains("exp") && Contains("modified by an in-place operation"));

    // Without grad mode the write is direct.
    NoGradGuard no_grad;
    Tensor w = x.detach().clone();
    tanh_(w);
    CHECK(w.to_vector<double>() == tanh(x.detach()).to_vector<double>());
}

TEST_CASE("unary errors name the op and the dtype", "[unary][errors]") {
    const Tensor b = gt(from_vector<float>({1, -1}), 0.0);
    CHECK_THROWS_WITH(log(b), Contains("log") && Contains("bool"));
    CHECK_THROWS_WITH(relu(b), Contains("relu") && Contains("bool"));
    CHECK_THROWS_WITH(exp(zeros({2}).to(DType::Float16)), Contains("exp") && Contains("float16"));
    CHECK_THROWS_WITH(clamp(zeros({2}), std::nullopt, std::nullopt), Contains("clamp") && Contains("min"));
    CHECK_THROWS_WITH(exp_(from_vector<int64_t>({1})), Contains("exp_") && Contains("float32") && Contains("int64"));
    CHECK_THROWS_WITH(gelu_(from_vector<int32_t>({1})), Contains("gelu_") && Contains("int32"));
}
