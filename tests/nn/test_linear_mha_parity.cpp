// Parity with torch 1.13 for Linear, the activation modules, a Sequential MLP
// and MultiheadAttention, from tests/fixtures/linear_mha_parity.json (written
// by tests/fixtures/make_linear_mha_fixtures.py). Each case's torch
// state_dict is loaded by name with load_state_dict (strict), which proves the
// parameter names match; then forward and backward are replayed in float64 and
// float32 and compared with torch's float64 results:
//   max |graft - torch| / max |torch| <= 1e-5 (float64), 1e-4 (float32).
// GRAFT_PARITY_REPORT=1 prints the worst relative error of every case.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>

#include "graft.h"
#include "nn/nn.h"
#include "tests/support/fixtures.h"

using namespace graft;
using nlohmann::json;

namespace {

const json& fixture() {
    static const json loaded = [] {
        json j = testing::load_fixture("linear_mha_parity.json");
        check(j.value("format", "") == "graft-linear-mha-fixture/1", "linear_mha_parity.json",
              "unexpected format; regenerate with: /usr/bin/python3 tests/fixtures/make_linear_mha_fixtures.py");
        return j;
    }();
    return loaded;
}

// max |actual - expected| / max |expected|
double tolerance(DType dtype) { return dtype == DType::Float64 ? 1e-5 : 1e-4; }

void report(const std::string& name, DType dtype, double worst) {
    if (std::getenv("GRAFT_PARITY_REPORT"))
        std::printf("parity %-40s %-8s worst rel err %.3g\n", name.c_str(), dtype_name(dtype), worst);
}

NamedTensors state_dict_of(const json& c) {
    NamedTensors sd;
    for (auto& [name, t] : c["state_dict"].items()) sd.set(name, testing::tensor_from_json(t));
    return sd;
}

// The Graft module for a fixture case (not MultiheadAttention).
std::shared_ptr<nn::Module> build(const json& c) {
    const std::string name = c["name"];
    const json& spec = c["spec"];
    if (name.rfind("linear", 0) == 0)
        return std::make_shared<nn::Linear>(spec["in_features"], spec["out_features"], spec["bias"].get<bool>());
    if (name == "sequential_mlp")
        return nn::sequential({std::make_shared<nn::Linear>(6, 8), std::make_shared<nn::ReLU>(),
                               std::make_shared<nn::Linear>(8, 3)});
    const std::string type = spec["type"];
    if (type == "ReLU") return std::make_shared<nn::ReLU>();
    if (type == "ReLU6") return std::make_shared<nn::ReLU6>();
    if (type == "LeakyReLU") return std::make_shared<nn::LeakyReLU>(spec["negative_slope"].get<double>());
    if (type == "GELU") return std::make_shared<nn::GELU>(spec["approximate"].get<std::string>());
    if (type == "SiLU") return std::make_shared<nn::SiLU>();
    if (type == "Sigmoid") return std::make_shared<nn::Sigmoid>();
    if (type == "Tanh") return std::make_shared<nn::Tanh>();
    if (type == "Softplus") return std::make_shared<nn::Softplus>(spec["beta"], spec["threshold"]);
    if (type == "Hardswish") return std::make_shared<nn::Hardswish>();
    if (type == "Identity") return std::make_shared<nn::Identity>();
    if (type == "Flatten") return std::make_shared<nn::Flatten>(spec["start_dim"], spec["end_dim"]);
    if (type == "Softmax") return std::make_shared<nn::Softmax>(spec["dim"]);
    if (type == "LogSoftmax") return std::make_shared<nn::LogSoftmax>(spec["dim"]);
    throw Error("no Graft module for fixture case " + name);
}

// Loads the case's torch weights into `m` by name (strict) after moving it to `dtype`.
void load_torch_weights(nn::Module& m, const json& c, DType dtype) {
    m.to(dtype);
    const NamedTensors sd = state_dict_of(c);
    const nn::LoadReport r = m.load_state_dict(sd);
    INFO(r.table());
    REQUIRE(r.ok());
    REQUIRE(r.loaded.size() == sd.size());
}

// Our str() without the "  # N params" notes, and torch's repr with MHA's
// NonDynamicallyQuantizableLinear called Linear.
std::string plain_str(const nn::Module& m) { return std::regex_replace(m.str(), std::regex("  # [^\n]*"), ""); }
std::string torch_repr(const json& c) {
    return std::regex_replace(c["repr"].get<std::string>(), std::regex("NonDynamicallyQuantizableLinear"), "Linear");
}

// Compares each torch gradient ("input.<name>" or a parameter name) with ours.
double compare_grads(const json& c, const std::map<std::string, Tensor>& inputs, const nn::Module& m) {
    std::map<std::string, Tensor> params;
    for (auto& [name, p] : m.named_parameters()) params[name] = p;
    double worst = 0;
    for (auto& [name, g] : c["grads"].items()) {
        const bool is_input = name.rfind("input.", 0) == 0;
        const Tensor leaf = is_input ? inputs.at(name.substr(6)) : params.at(name);
        INFO("gradient of " << name);
        REQUIRE(leaf.grad().defined());
        worst = std::max(worst, testing::rel_err(leaf.grad(), testing::tensor_from_json(g)));
    }
    return worst;
}

double run_module_case(const json& c, DType dtype) {
    auto m = build(c);
    load_torch_weights(*m, c, dtype);
    std::map<std::string, Tensor> inputs;
    for (auto& [name, t] : c["inputs"].items())
        inputs[name] = testing::tensor_from_json(t).to(dtype).requires_grad_();
    const Tensor y = (*m)(inputs.at("x"));
    const Tensor g = testing::tensor_from_json(c["upstream"]["output"]).to(dtype);
    sum(mul(y, g)).backward();
    double worst = testing::rel_err(y, testing::tensor_from_json(c["outputs"]["output"]));
    worst = std::max(worst, compare_grads(c, inputs, *m));
    CHECK(plain_str(*m) == torch_repr(c));
    return worst;
}

Tensor mask_from_json(const json& c, const char* name, DType dtype) {
    if (!c["masks"].contains(name)) return Tensor();
    const Tensor t = testing::tensor_from_json(c["masks"][name]);
    return c["mask_is_bool"][name].get<bool>() ? ne(t, 0) : t.to(dtype);
}

double run_mha_case(const json& c, DType dtype) {
    const json& spec = c["spec"];
    auto m = std::make_shared<nn::MultiheadAttention>(
        spec["embed_dim"], spec["num_heads"],
        nn::MultiheadAttentionOptions{.bias = spec["bias"], .batch_first = spec["batch_first"]});
    load_torch_weights(*m, c, dtype);
    std::map<std::string, Tensor> inputs;
    for (auto& [name, t] : c["inputs"].items())
        inputs[name] = testing::tensor_from_json(t).to(dtype).requires_grad_();
    const bool self_attn = spec["self_attn"];
    const Tensor q = inputs.at("query"), k = self_attn ? q : inputs.at("key"), v = self_attn ? q : inputs.at("value");
    const nn::AttentionOptions options{.key_padding_mask = mask_from_json(c, "key_padding_mask", dtype),
                                       .attn_mask = mask_from_json(c, "attn_mask", dtype),
                                       .need_weights = spec["need_weights"],
                                       .average_attn_weights = spec["average_attn_weights"]};
    const nn::AttentionResult r = m->forward(q, k, v, options);
    Tensor loss = sum(mul(r.output, testing::tensor_from_json(c["upstream"]["output"]).to(dtype)));
    double worst = testing::rel_err(r.output, testing::tensor_from_json(c["outputs"]["output"]));
    REQUIRE(r.weights.defined() == c["outputs"].contains("weights"));
    if (r.weights.defined()) {
        loss = add(loss, sum(mul(r.weights, testing::tensor_from_json(c["upstream"]["weights"]).to(dtype))));
        worst = std::max(worst, testing::rel_err(r.weights, testing::tensor_from_json(c["outputs"]["weights"])));
    }
    loss.backward();
    worst = std::max(worst, compare_grads(c, inputs, *m));
    CHECK(plain_str(*m) == torch_repr(c));
    return worst;
}

void run_cases(const std::string& prefix, double (*run)(const json&, DType)) {
    int ran = 0;
    for (const json& c : fixture()["cases"]) {
        const std::string name = c["name"];
        if (name.rfind(prefix, 0) != 0) continue;
        for (DType dtype : {DType::Float64, DType::Float32}) {
            INFO("case " << name << ", " << dtype_name(dtype));
            const double worst = run(c, dtype);
            report(name, dtype, worst);
            CHECK(worst <= tolerance(dtype));
        }
        ++ran;
    }
    CHECK(ran > 0);
}

}  // namespace

TEST_CASE("Linear matches torch forward and backward", "[parity][linear]") { run_cases("linear", run_module_case); }

TEST_CASE("activation modules match torch forward and backward", "[parity][activation]") {
    run_cases("act_", run_module_case);
}

TEST_CASE("Sequential(Linear, ReLU, Linear) matches torch with torch's names", "[parity][container]") {
    run_cases("sequential", run_module_case);
}

TEST_CASE("MultiheadAttention matches torch: layouts, masks, weights, gradients", "[parity][attention]") {
    run_cases("mha_", run_mha_case);
}

TEST_CASE("default init matches torch's statistics for big layers", "[parity][init]") {
    manual_seed(17);
    nn::Linear lin(1000, 500);
    nn::MultiheadAttention mha(256, 8);
    const std::map<std::string, Tensor> ours = {{"linear.weight", lin.weight},
                                                {"linear.bias", lin.bias},
                                                {"mha.in_proj_weight", mha.in_proj_weight},
                                                {"mha.out_proj.weight", mha.out_proj->weight}};
    for (auto& [name, s] : fixture()["init_stats"].items()) {
        INFO(name);
        const Tensor t = ours.at(name).detach().to(DType::Float64);
        const double torch_std = s["std"], n = s["numel"];
        REQUIRE(t.numel() == int64_t(n));
        // std of a sample std ~ std / sqrt(2n) (uniform: a bit less); 5 of those on each side
        const double margin = 5 * torch_std / std::sqrt(2 * n) + 1e-4 * torch_std;
        CHECK(graft::std(t).item<double>() == Approx(torch_std).margin(margin));
        CHECK(std::fabs(mean(t).item<double>()) < 5 * torch_std / std::sqrt(n));
        // same support: the extremes of a big uniform sample sit at its bounds
        CHECK(max(t).item<double>() <= std::max(std::fabs(s["min"].get<double>()), s["max"].get<double>()) * 1.001);
    }
}
