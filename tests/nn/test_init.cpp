// nn/init: fans and gains as torch computes them, the statistics of every
// random fill, trunc_normal_'s bounds and moments, erfinv, constants, seeding.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "graft.h"
#include "nn/init.h"

using namespace graft;
using namespace graft::nn;
using Catch::Matchers::Contains;

namespace {

struct Stats {
    double mean, std, min, max;
};

Stats stats_of(const Tensor& t) {
    const auto v = t.to_vector<double>();
    double s = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
    for (double x : v) {
        s += x;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    const double mean = s / double(v.size());
    for (double x : v) s2 += (x - mean) * (x - mean);
    return {mean, std::sqrt(s2 / double(v.size() - 1)), lo, hi};
}

}  // namespace

TEST_CASE("fans follow torch's _calculate_fan_in_and_fan_out", "[init]") {
    const init::Fans linear = init::calculate_fan_in_and_fan_out(empty({500, 1000}));
    CHECK(linear.fan_in == 1000);
    CHECK(linear.fan_out == 500);
    const init::Fans conv = init::calculate_fan_in_and_fan_out(empty({64, 3, 7, 5}));
    CHECK(conv.fan_in == 3 * 35);
    CHECK(conv.fan_out == 64 * 35);
    CHECK(init::calculate_correct_fan(empty({64, 3, 7, 5}), init::FanMode::FanOut) == 64 * 35);
    CHECK_THROWS_WITH(init::calculate_fan_in_and_fan_out(empty({10})), Contains("fewer than 2 dimensions"));
}

TEST_CASE("calculate_gain matches torch's table", "[init]") {
    using init::Nonlinearity;
    CHECK(init::calculate_gain(Nonlinearity::Linear) == 1.0);
    CHECK(init::calculate_gain(Nonlinearity::Conv2d) == 1.0);
    CHECK(init::calculate_gain(Nonlinearity::Sigmoid) == 1.0);
    CHECK(init::calculate_gain(Nonlinearity::Tanh) == Approx(5.0 / 3.0));
    CHECK(init::calculate_gain(Nonlinearity::ReLU) == Approx(std::sqrt(2.0)));
    CHECK(init::calculate_gain(Nonlinearity::LeakyReLU) == Approx(std::sqrt(2.0 / (1 + 0.01 * 0.01))));
    CHECK(init::calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
    CHECK(init::calculate_gain(Nonlinearity::SELU) == 0.75);
}

TEST_CASE("kaiming and xavier fills have torch's bounds and spread", "[init]") {
    manual_seed(7);
    Tensor w = empty({400, 600});
    init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU);
    const double bound = std::sqrt(2.0) * std::sqrt(3.0 / 600);
    Stats s = stats_of(w);
    CHECK(s.max <= bound);
    CHECK(s.min >= -bound);
    CHECK(s.std == Approx(bound / std::sqrt(3.0)).epsilon(0.01));

    init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
    s = stats_of(w);
    CHECK(s.std == Approx(std::sqrt(2.0 / 400)).epsilon(0.01));
    CHECK(std::fabs(s.mean) < 4 * s.std / std::sqrt(240000.0));

    init::xavier_uniform_(w, 2.0);
    const double a = 2.0 * std::sqrt(6.0 / 1000);
    s = stats_of(w);
    CHECK(s.max <= a);
    CHECK(s.min >= -a);
    CHECK(s.std == Approx(a / std::sqrt(3.0)).epsilon(0.01));

    init::xavier_normal_(w);
    CHECK(stats_of(w).std == Approx(std::sqrt(2.0 / 1000)).epsilon(0.01));
}

TEST_CASE("trunc_normal_ stays in [a, b] with the truncated normal's moments", "[init]") {
    manual_seed(11);
    Tensor t = empty({200000}, DType::Float64);
    init::trunc_normal_(t, 1.0, 2.0, -1.0, 4.0);  // alpha = -1, beta = 1.5 in standard units
    const Stats s = stats_of(t);
    CHECK(s.min >= -1.0);
    CHECK(s.max <= 4.0);
    // Moments of N(1, 2^2) truncated to [-1, 4]: mu + sigma (phi(a) - phi(b)) / Z, etc.
    auto phi = [](double x) { return std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi); };
    auto Phi = [](double x) { return (1 + std::erf(x / std::sqrt(2.0))) / 2; };
    const double al = -1.0, be = 1.5, z = Phi(be) - Phi(al);
    const double mean = 1.0 + 2.0 * (phi(al) - phi(be)) / z;
    const double var = 4.0 * (1 + (al * phi(al) - be * phi(be)) / z - std::pow((phi(al) - phi(be)) / z, 2));
    CHECK(s.mean == Approx(mean).margin(0.01));
    CHECK(s.std == Approx(std::sqrt(var)).epsilon(0.01));
    // torch's defaults: std 1 in [-2, 2] on a float32 parameter that requires grad
    Tensor p = empty({1000}).requires_grad_();
    init::trunc_normal_(p, 0.0, 0.02, -0.04, 0.04);
    CHECK(stats_of(p).max <= 0.04f);
    CHECK(stats_of(p).std == Approx(0.02 * 0.8796).epsilon(0.1));  // var factor for [-2, 2] sigma: 0.7737
    CHECK(p.requires_grad());
    CHECK(p.is_leaf());
}

TEST_CASE("erfinv inverts erf to double precision", "[init]") {
    for (double x : {-2.9, -2.0, -1.0, -0.3, 0.0, 1e-8, 0.2, 0.9, 2.0, 3.2}) {
        INFO("x = " << x);
        CHECK(init::erfinv(std::erf(x)) == Approx(x).epsilon(1e-11).margin(1e-14));
    }
    // near +-1, erf(x) has lost x's digits; check the other way round
    for (double y : {0.95, 0.999999, -0.99999999, 1 - 1e-15}) {
        INFO("y = " << y);
        CHECK(std::erfc(std::fabs(init::erfinv(y))) == Approx(1 - std::fabs(y)).epsilon(1e-9));
    }
    CHECK(std::isinf(init::erfinv(1.0)));
    CHECK(std::isnan(init::erfinv(1.5)));
}

TEST_CASE("constant fills work on parameters that require grad and record nothing", "[init]") {
    Tensor p = empty({3, 4}).requires_grad_();
    init::ones_(p);
    CHECK(sum(p.detach()).item<double>() == 12.0);
    init::constant_(p, 0.5);
    CHECK(p.to_vector<float>()[7] == 0.5f);
    init::zeros_(p);
    CHECK(sum(p.detach()).item<double>() == 0.0);
    CHECK(p.is_leaf());
    CHECK(p.grad_fn() == nullptr);
}

TEST_CASE("fills draw from the given generator and repeat with its seed", "[init]") {
    Generator g1(123), g2(123);
    Tensor a = empty({50, 20}), b = empty({50, 20});
    init::kaiming_uniform_(a, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, &g1);
    init::kaiming_uniform_(b, std::sqrt(5.0), init::FanMode::FanIn, init::Nonlinearity::LeakyReLU, &g2);
    CHECK(a.to_vector<float>() == b.to_vector<float>());
    init::normal_(a, 0.0, 1.0, &g1);
    CHECK(a.to_vector<float>() != b.to_vector<float>());
    init::uniform_(a, -2.0, -1.0, &g1);
    CHECK(stats_of(a).max <= -1.0);
    CHECK(stats_of(a).min >= -2.0);
}
