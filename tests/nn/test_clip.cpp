// Gradient clipping against torch 1.13's clip_grad_norm_ / clip_grad_value_
// (tests/fixtures/optim_parity.json), plus the edge cases.
#include "nn/optim/clip.h"
#include "optim_fixture.h"

using namespace graft;
using namespace optim_test;
using Catch::Matchers::Contains;

namespace {

// Three float64 leaves carrying the fixture's gradients.
std::vector<Tensor> params_with_fixture_grads(DType dtype = DType::Float64) {
    std::vector<Tensor> params;
    for (const json& g : fixture()["clip"]["grads"]) {
        auto values = g.get<std::vector<double>>();
        Tensor p = zeros({int64_t(values.size())}, dtype).requires_grad_();
        p.set_grad(from_vector(values).to(dtype));
        params.push_back(p);
    }
    return params;
}

}  // namespace

TEST_CASE("clip_grad_norm_ matches torch 1.13", "[clip]") {
    for (const json& c : fixture()["clip"]["norm"]) {
        SECTION(c["name"].get<std::string>()) {
            std::vector<Tensor> params = params_with_fixture_grads();
            const double norm_type = c["norm_type"].is_string() ? optim::kInfNorm : c["norm_type"].get<double>();
            const double total = optim::clip_grad_norm_(params, c["max_norm"].get<double>(), norm_type);
            require_close({total}, {c["total_norm"].get<double>()}, 1e-12, "total norm");
            for (size_t i = 0; i < params.size(); ++i)
                require_close(params[i].grad().to_vector<double>(), c["grads"][i].get<std::vector<double>>(), 1e-12,
                              cat_str("grad ", i));
        }
    }
}

TEST_CASE("clip_grad_value_ matches torch 1.13", "[clip]") {
    const json& c = fixture()["clip"]["value"];
    std::vector<Tensor> params = params_with_fixture_grads();
    optim::clip_grad_value_(params, c["clip_value"].get<double>());
    for (size_t i = 0; i < params.size(); ++i)
        CHECK(params[i].grad().to_vector<double>() == c["grads"][i].get<std::vector<double>>());
}

TEST_CASE("clipping skips tensors without gradients and handles edge cases", "[clip]") {
    CHECK(optim::clip_grad_norm_({}, 1.0) == 0.0);
    Tensor bare = zeros({3}).requires_grad_();
    CHECK(optim::clip_grad_norm_({bare}, 1.0) == 0.0);
    CHECK(!bare.grad().defined());

    // float32 gradients, clipped to norm ~1.
    std::vector<Tensor> f32 = params_with_fixture_grads(DType::Float32);
    f32.push_back(bare);
    const double total = optim::clip_grad_norm_(f32, 1.0);
    CHECK(total > 1.0);
    double after = 0;
    for (size_t i = 0; i < 3; ++i)
        for (float g : f32[i].grad().to_vector<float>()) after += double(g) * g;
    CHECK(std::sqrt(after) == Approx(1.0).epsilon(1e-5));

    std::vector<Tensor> bad = params_with_fixture_grads();
    bad[1].grad().fill_(std::numeric_limits<double>::infinity());
    CHECK_THROWS_WITH(optim::clip_grad_norm_(bad, 1.0, 2.0, /*error_if_nonfinite=*/true), Contains("non-finite"));
    CHECK_THROWS_WITH(optim::clip_grad_norm_(bad, 1.0, -1.0), Contains("norm_type must be positive"));
}
