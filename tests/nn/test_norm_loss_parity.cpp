// Parity with torch 1.13 (tests/fixtures/norm_loss_parity.json, made by
// make_norm_loss_fixtures.py): BatchNorm1d/2d through train and eval steps
// (outputs, input/weight/bias gradients, running statistics,
// num_batches_tracked; momentum None included), LayerNorm, GroupNorm, every
// loss configuration, and Embedding with padding_idx. Within 1e-5 relative in
// float64 and 1e-4 in float32 (plus a small absolute floor for values near 0).
// GRAFT_PARITY_VERBOSE=1 prints the worst closeness of each section.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <map>

#include "graft.h"
#include "nn/layers/embedding.h"
#include "nn/layers/loss.h"
#include "nn/layers/norm.h"
#include "tests/support/fixtures.h"

using namespace graft;
using namespace graft::testing;
using nlohmann::json;

namespace {

const json& fixture() {
    static const json loaded = [] {
        json j = load_fixture("norm_loss_parity.json");
        check(j.value("format", "") == "graft-norm-loss-fixture/1", "norm_loss_parity.json",
              "unexpected format '", j.value("format", ""),
              "'; regenerate with /usr/bin/python3 tests/fixtures/make_norm_loss_fixtures.py");
        return j;
    }();
    return loaded;
}

DType dtype_of_case(const json& c) { return c["dtype"] == "float32" ? DType::Float32 : DType::Float64; }

// The worst closeness seen per section, printed at exit when asked for.
struct Worst {
    std::map<std::string, double> by_section;
    ~Worst() {
        if (!std::getenv("GRAFT_PARITY_VERBOSE")) return;
        for (const auto& [name, c] : by_section) std::cout << "parity " << name << ": worst closeness " << c << "\n";
    }
};
Worst& worst() {
    static Worst w;
    return w;
}

// |got - want| <= atol + rtol |want| element by element (rtol 1e-5 / 1e-4).
void expect_close(const Tensor& got, const json& want, DType dtype, const std::string& section,
                  const std::string& what) {
    REQUIRE(got.defined());
    const double rtol = dtype == DType::Float64 ? 1e-5 : 1e-4, atol = dtype == DType::Float64 ? 1e-9 : 1e-6;
    const double c = closeness(got, tensor_from_json(want), atol, rtol);
    double& w = worst().by_section[section + (dtype == DType::Float64 ? " float64" : " float32")];
    w = std::max(w, c);
    INFO(section << " " << what << ": closeness " << c << " (<= 1 passes)");
    CHECK(c <= 1.0);
}

Tensor leaf(const json& j) {
    Tensor t = tensor_from_json(j);
    t.requires_grad_(true);
    return t;
}

void load_into(const Tensor& param, const json& j) {
    NoGradGuard no_grad;
    param.copy_(tensor_from_json(j));
}

std::shared_ptr<nn::BatchNormBase> make_batch_norm(const json& c) {
    nn::BatchNormOptions o;
    o.eps = c["eps"];
    o.momentum = c["momentum"].is_null() ? std::nullopt : std::optional<double>(c["momentum"].get<double>());
    o.affine = c["affine"];
    o.track_running_stats = c["track_running_stats"];
    const int64_t C = c["num_features"];
    std::shared_ptr<nn::BatchNormBase> m;
    if (c["module"] == "BatchNorm1d") m = std::make_shared<nn::BatchNorm1d>(C, o);
    else m = std::make_shared<nn::BatchNorm2d>(C, o);
    m->to(dtype_of_case(c));
    if (o.affine) {
        load_into(m->weight, c["weight"]);
        load_into(m->bias, c["bias"]);
    }
    return m;
}

}  // namespace

TEST_CASE("BatchNorm1d/2d match torch through train and eval steps", "[nn][parity][norm]") {
    for (const json& c : fixture()["batchnorm"]) {
        const DType dtype = dtype_of_case(c);
        auto m = make_batch_norm(c);
        int step = 0;
        for (const json& s : c["steps"]) {
            INFO(c["module"] << " " << c["dtype"] << " momentum " << c["momentum"] << " affine " << c["affine"]
                             << " track " << c["track_running_stats"] << " step " << step++ << " " << s["mode"]);
            m->train(s["mode"] == "train");
            m->zero_grad();
            const Tensor x = leaf(s["input"]);
            const Tensor y = (*m)(x);
            y.backward(tensor_from_json(s["grad_output"]));
            expect_close(y, s["output"], dtype, "batchnorm", "output");
            expect_close(x.grad(), s["grad_input"], dtype, "batchnorm", "grad_input");
            if (m->affine) {
                expect_close(m->weight.grad(), s["grad_weight"], dtype, "batchnorm", "grad_weight");
                expect_close(m->bias.grad(), s["grad_bias"], dtype, "batchnorm", "grad_bias");
            }
            if (m->track_running_stats) {
                expect_close(m->running_mean, s["running_mean"], dtype, "batchnorm", "running_mean");
                expect_close(m->running_var, s["running_var"], dtype, "batchnorm", "running_var");
                CHECK(m->num_batches_tracked.item<int64_t>() == s["num_batches_tracked"].get<int64_t>());
            }
        }
    }
}

TEST_CASE("LayerNorm and GroupNorm match torch", "[nn][parity][norm]") {
    for (const char* section : {"layernorm", "groupnorm"})
        for (const json& c : fixture()[section]) {
            const DType dtype = dtype_of_case(c);
            INFO(section << " " << c["dtype"] << " affine " << c["affine"]);
            std::shared_ptr<nn::Module> m;
            Tensor weight, bias;
            if (c["module"] == "LayerNorm") {
                auto ln = std::make_shared<nn::LayerNorm>(c["normalized_shape"].get<Shape>(), c["eps"], c["affine"]);
                m = ln;
                weight = ln->weight;
                bias = ln->bias;
            } else {
                auto gn = std::make_shared<nn::GroupNorm>(c["groups"], c["input"]["shape"][1], c["eps"], c["affine"]);
                m = gn;
                weight = gn->weight;
                bias = gn->bias;
            }
            m->to(dtype);
            if (c["affine"]) {
                load_into(weight, c["weight"]);
                load_into(bias, c["bias"]);
            }
            const Tensor x = leaf(c["input"]);
            const Tensor y = (*m)(x);
            y.backward(tensor_from_json(c["grad_output"]));
            expect_close(y, c["output"], dtype, section, "output");
            expect_close(x.grad(), c["grad_input"], dtype, section, "grad_input");
            if (c["affine"]) {
                expect_close(weight.grad(), c["grad_weight"], dtype, section, "grad_weight");
                expect_close(bias.grad(), c["grad_bias"], dtype, section, "grad_bias");
            }
        }
}

namespace {

Reduction reduction_of(const json& c) {
    if (c["reduction"] == "none") return Reduction::None;
    return c["reduction"] == "sum" ? Reduction::Sum : Reduction::Mean;
}

Tensor optional_tensor(const json& c, const char* key) {
    return c.contains(key) ? tensor_from_json(c[key]) : Tensor();
}

// The loss of a fixture case, through the nn loss modules.
Tensor run_loss(const json& c, const Tensor& x, const Tensor& t) {
    const std::string name = c["loss"];
    const Reduction r = reduction_of(c);
    if (name == "cross_entropy" || name == "nll_loss") {
        CrossEntropyOptions o;
        o.weight = optional_tensor(c, "weight");
        o.ignore_index = c.value("ignore_index", int64_t(-100));
        o.label_smoothing = c.value("label_smoothing", 0.0);
        o.reduction = r;
        return name == "cross_entropy" ? nn::CrossEntropyLoss(o)(x, t) : nn::NLLLoss(o)(x, t);
    }
    if (name == "mse_loss") return nn::MSELoss(r)(x, t);
    if (name == "l1_loss") return nn::L1Loss(r)(x, t);
    if (name == "smooth_l1_loss") return nn::SmoothL1Loss(r, c["beta"])(x, t);
    if (name == "bce_with_logits")
        return nn::BCEWithLogitsLoss(optional_tensor(c, "weight"), r, optional_tensor(c, "pos_weight"))(x, t);
    throw Error("unknown loss in fixture: " + name);
}

}  // namespace

TEST_CASE("losses match torch in value and gradients", "[nn][parity][loss]") {
    for (const json& c : fixture()["losses"]) {
        const DType dtype = dtype_of_case(c);
        INFO(c["loss"] << " " << c["dtype"] << " reduction " << c["reduction"] << " options "
                       << c.value("label_smoothing", 0.0) << "/" << c.value("ignore_index", -100) << "/"
                       << c.contains("weight") << c.contains("pos_weight") << " beta " << c.value("beta", -1.0));
        const Tensor x = leaf(c["input"]);
        const bool target_grad = !c["grad_target"].is_null();
        const Tensor t = target_grad ? leaf(c["target"]) : tensor_from_json(c["target"]);
        const Tensor y = run_loss(c, x, t);
        if (c["grad_output"].is_null()) y.backward();
        else y.backward(tensor_from_json(c["grad_output"]));
        const std::string section = c["loss"];
        expect_close(y, c["output"], dtype, section, "output");
        expect_close(x.grad(), c["grad_input"], dtype, section, "grad_input");
        if (target_grad) expect_close(t.grad(), c["grad_target"], dtype, section, "grad_target");
    }
}

TEST_CASE("Embedding matches torch, padding_idx included", "[nn][parity]") {
    for (const json& c : fixture()["embedding"]) {
        const DType dtype = dtype_of_case(c);
        INFO("embedding " << c["dtype"] << " padding_idx " << c["padding_idx"]);
        const Tensor w0 = tensor_from_json(c["weight"]);
        const std::optional<int64_t> pad =
            c["padding_idx"].is_null() ? std::nullopt : std::optional<int64_t>(c["padding_idx"].get<int64_t>());
        nn::Embedding m(w0.size(0), w0.size(1), pad);
        m.to(dtype);
        load_into(m.weight, c["weight"]);
        const Tensor y = m(tensor_from_json(c["indices"]));
        y.backward(tensor_from_json(c["grad_output"]));
        expect_close(y, c["output"], dtype, "embedding", "output");
        expect_close(m.weight.grad(), c["grad_weight"], dtype, "embedding", "grad_weight");
    }
}
