// nn::Conv2d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d against PyTorch 1.13:
// outputs and input/weight/bias gradients from tests/fixtures/conv_parity.json
// (made by make_conv_fixtures.py). Errors are relative to the largest |ref|:
// at most 1e-5 in float64 (the sums are short) and 1e-4 in float32. Also: the
// default init range, parameter names and shapes, and PyTorch's repr.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/autograd/grad_mode.h"
#include "nn/layers/conv.h"
#include "nn/layers/pooling.h"
#include "tests/support/fixtures.h"

using namespace graft;
using nlohmann::json;

using graft::testing::rel_err;

namespace {

const json& fixture() {
    static const json j = testing::load_fixture("conv_parity.json", "graft-conv-fixture/1");
    return j;
}


double tol(DType dtype) { return dtype == DType::Float64 ? 1e-5 : 1e-4; }

void expect_match(const Tensor& got, const json& want, const char* what, double* worst) {
    const Tensor ref = testing::tensor_from_json(want);
    const double e = rel_err(got, ref);
    *worst = std::max(*worst, e);
    INFO(what << ": relative error " << e);
    CHECK(e <= tol(ref.dtype()));
}

nn::Size2d pair(const json& j) { return nn::Size2d{j[0].get<int64_t>(), j[1].get<int64_t>()}; }

}  // namespace

TEST_CASE("Conv2d matches PyTorch: outputs and gradients", "[nn][conv][parity]") {
    for (const json& c : fixture()["conv"]) {
        INFO("case " << c["name"].get<std::string>());
        const json& p = c["padding"];
        nn::Conv2dOptions o{pair(c["stride"]),
                            nn::Padding2d{p[0].get<int64_t>(), p[1].get<int64_t>(), p[2].get<int64_t>(), p[3].get<int64_t>()},
                            pair(c["dilation"]), c["groups"].get<int64_t>(), c["bias"].get<bool>()};
        nn::Conv2d conv(c["in"].get<int64_t>(), c["out"].get<int64_t>(), pair(c["kernel"]), o);
        const Tensor x = testing::tensor_from_json(c["x"]).requires_grad_();
        conv.to(x.dtype());
        {
            NoGradGuard no_grad;
            conv.weight.copy_(testing::tensor_from_json(c["weight"]));
            if (o.bias) conv.bias.copy_(testing::tensor_from_json(c["bias_value"]));
        }
        const Tensor y = conv(x);
        y.backward(testing::tensor_from_json(c["grad_out"]));
        double worst = 0;
        expect_match(y, c["y"], "output", &worst);
        expect_match(x.grad(), c["dx"], "input gradient", &worst);
        expect_match(conv.weight.grad(), c["dweight"], "weight gradient", &worst);
        if (o.bias) expect_match(conv.bias.grad(), c["dbias"], "bias gradient", &worst);
        UNSCOPED_INFO(c["name"].get<std::string>() << " (" << dtype_name(x.dtype()) << "): worst relative error " << worst);
    }
}

TEST_CASE("pooling layers match PyTorch: outputs and gradients", "[nn][pool][parity]") {
    for (const json& c : fixture()["pool"]) {
        const std::string kind = c["kind"];
        std::shared_ptr<nn::Module> layer;
        if (kind == "adaptive") {
            layer = std::make_shared<nn::AdaptiveAvgPool2d>(pair(c["output_size"]));
        } else if (kind == "max") {
            layer = std::make_shared<nn::MaxPool2d>(
                pair(c["kernel"]),
                nn::MaxPool2dOptions{pair(c["stride"]), pair(c["padding"]), pair(c["dilation"]), c["ceil_mode"].get<bool>()});
        } else {
            layer = std::make_shared<nn::AvgPool2d>(
                pair(c["kernel"]), nn::AvgPool2dOptions{pair(c["stride"]), pair(c["padding"]), c["ceil_mode"].get<bool>(),
                                                        c["count_include_pad"].get<bool>()});
        }
        INFO(layer->type_name() << "(" << layer->extra_repr() << ")");
        const Tensor x = testing::tensor_from_json(c["x"]).requires_grad_();
        const Tensor y = (*layer)(x);
        y.backward(testing::tensor_from_json(c["grad_out"]));
        double worst = 0;
        expect_match(y, c["y"], "output", &worst);
        expect_match(x.grad(), c["dx"], "input gradient", &worst);
        UNSCOPED_INFO(layer->type_name() << "(" << layer->extra_repr() << ") " << dtype_name(x.dtype())
                                << ": worst relative error " << worst);
    }
}

TEST_CASE("Conv2d parameters: names, shapes and torch's default init range", "[nn][conv]") {
    nn::Conv2d conv(6, 8, 3, nn::Conv2dOptions{.groups = 2});
    const auto named = conv.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[0].second.shape() == Shape{8, 3, 3, 3});
    CHECK(named[1].first == "bias");
    const double bound = 1.0 / std::sqrt(3.0 * 9.0);  // fan_in = in/groups * kH * kW
    for (const Tensor& t : {conv.weight, conv.bias}) {
        const auto v = t.to_vector<double>();
        CHECK(*std::max_element(v.begin(), v.end()) <= bound);
        CHECK(*std::min_element(v.begin(), v.end()) >= -bound);
    }
    // The range is used, not a sliver of it. Only the 216 weights are checked: the
    // 8 biases all fall below half the bound about one draw in ten.
    const auto w = conv.weight.to_vector<double>();
    CHECK(*std::max_element(w.begin(), w.end()) > 0.5 * bound);
    nn::Conv2d no_bias(3, 4, 1, nn::Conv2dOptions{.bias = false});
    CHECK(no_bias.named_parameters().size() == 1);
    Generator g1(5), g2(5);
    nn::Conv2d a(3, 4, 3, {}, &g1), b(3, 4, 3, {}, &g2);
    CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
}

TEST_CASE("conv and pooling layers print as PyTorch does", "[nn][conv]") {
    CHECK(nn::Conv2d(3, 64, 7, {.stride = 2, .padding = 3, .bias = false}).extra_repr() ==
          "3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False");
    CHECK(nn::Conv2d(32, 32, 3, {.stride = 1, .padding = 1, .groups = 32}).extra_repr() ==
          "32, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=32");
    CHECK(nn::Conv2d(4, 4, {3, 1}, {.dilation = 2}).extra_repr() ==
          "4, 4, kernel_size=(3, 1), stride=(1, 1), dilation=(2, 2)");
    CHECK(nn::Conv2d(4, 4, 3, {.padding = nn::Padding2d{0, 1, 0, 1}}).extra_repr() ==
          "4, 4, kernel_size=(3, 3), stride=(1, 1), padding=(0, 1, 0, 1)");
    CHECK(nn::MaxPool2d(3, {.stride = 2, .padding = 1}).extra_repr() ==
          "kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False");
    CHECK(nn::AvgPool2d(2).extra_repr() == "kernel_size=2, stride=2, padding=0");
    CHECK(nn::AdaptiveAvgPool2d(nn::Size2d{1, 1}).extra_repr() == "output_size=(1, 1)");
}
