// transfer::apply_lora and friends on a small model whose forward calls its
// layers through typed members (as the zoo models do): wrapping by pattern, the
// names and parameter counts, the start equal to the base, which parameters get
// gradients, merge/unmerge, adapter files (PEFT key names, metadata, a PEFT-style
// file with adapter_config.json beside it), loading plain checkpoints into a
// wrapped model, and the errors.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/autograd/grad_mode.h"
#include "graft.h"
#include "io/formats/safetensors.h"
#include "nn/layers/activation.h"
#include "nn/layers/container.h"
#include "nn/models/resnet.h"
#include "tests/support/fixtures.h"
#include "tests/support/temp_dir.h"
#include "transfer/lora.h"

using namespace graft;
using Catch::Contains;
using testing::rel_err;

namespace {

// conv [N,3,6,6] -> flatten -> fc1 -> relu -> fc2, plus head = Sequential(Linear).
class Net : public nn::Module {
public:
    Net() : Module("Net") {
        conv = register_module("conv", std::make_shared<nn::Conv2d>(3, 4, 3, nn::Conv2dOptions{.padding = 1}));
        fc1 = register_module("fc1", std::make_shared<nn::Linear>(4 * 6 * 6, 16));
        fc2 = register_module("fc2", std::make_shared<nn::Linear>(16, 8));
        head = register_module("head", nn::sequential({std::make_shared<nn::Linear>(8, 3)}));
    }
    Tensor forward(const Tensor& x) override {
        Tensor h = (*conv)(x).flatten(1);
        h = (*fc2)(relu((*fc1)(h)));
        return (*head)(h);
    }
    std::shared_ptr<nn::Conv2d> conv;
    std::shared_ptr<nn::Linear> fc1, fc2;
    std::shared_ptr<nn::Sequential> head;
};

Tensor input() {
    Generator g(7);
    return randn({2, 3, 6, 6}, DType::Float32, &g);
}

// Gives every lora_B random values, so the adapters change the output.
void randomize_B(nn::Module& model, uint64_t seed) {
    Generator g(seed);
    NoGradGuard no_grad;
    for (auto& [path, layer] : transfer::lora_layers(model))
        layer->weight_B().copy_(randn(layer->weight_B().shape(), DType::Float32, &g) * 0.1);
}

std::vector<std::string> names(const nn::Module& m) {
    std::vector<std::string> out;
    for (auto& [n, t] : m.named_parameters()) out.push_back(n);
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("apply_lora wraps by glob, keeps the output, names and counts as documented", "[lora]") {
    auto net = std::make_shared<Net>();
    const Tensor x = input();
    const Tensor before = (*net)(x).detach();
    const int64_t base_params = net->num_parameters();

    Generator g(1);
    const auto wrapped = transfer::apply_lora(*net, {.rank = 2, .alpha = 4, .target_modules = {"fc*", "conv"}, .gen = &g});
    CHECK(wrapped == std::vector<std::string>{"conv", "fc1", "fc2"});
    CHECK(net->submodule("fc1")->type_name() == "LoraLinear");
    CHECK(net->submodule("conv")->type_name() == "LoraConv2d");
    CHECK(net->fc1->type_name() == "Linear");  // the typed member is the base layer, now hooked

    const auto n = names(*net);
    for (const char* expected : {"conv.base_layer.weight", "conv.base_layer.bias", "conv.lora_A.weight", "conv.lora_B.weight",
                                 "fc1.base_layer.weight", "fc1.lora_A.weight", "fc1.lora_B.weight", "fc2.lora_B.weight",
                                 "head.0.weight"})
        CHECK(has(n, expected));
    // LoRA adds r * (in + out) per Linear, r * in * kH * kW + out * r per Conv2d.
    const int64_t lora = 2 * 3 * 3 * 3 + 4 * 2 + 2 * (144 + 16) + 2 * (16 + 8);
    CHECK(net->num_parameters() == base_params + lora);
    CHECK(net->num_parameters(/*trainable_only=*/true) == lora + 8 * 3 + 3);  // adapters + the unwrapped head
    int64_t listed = 0;
    for (const Tensor& p : transfer::lora_parameters(*net)) listed += p.numel();
    CHECK(listed == lora);
    CHECK(transfer::lora_parameters(*net).size() == 6);

    CHECK(rel_err((*net)(x).detach(), before) == 0.0);  // B starts at zero
    CHECK(net->str().find("LoraLinear(r=2, alpha=4, scaling=2, merged=False") != std::string::npos);
}

TEST_CASE("apply_lora: empty targets mean every Linear, no double wrapping, freeze_base_model", "[lora]") {
    auto net = std::make_shared<Net>();
    CHECK(transfer::apply_lora(*net, {.rank = 1}) == std::vector<std::string>{"fc1", "fc2", "head.0"});
    // A second call finds nothing new: layers inside wrappers are never wrapped.
    CHECK_THROWS_WITH(transfer::apply_lora(*net, {.rank = 1}), Contains("no Linear or Conv2d module matches"));
    CHECK(transfer::apply_lora(*net, {.rank = 1, .target_modules = {"*conv*"}}) == std::vector<std::string>{"conv"});
    CHECK(transfer::lora_layers(*net).size() == 4);

    auto frozen = std::make_shared<Net>();
    transfer::apply_lora(*frozen, {.rank = 2, .target_modules = {"fc1"}, .freeze_base_model = true});
    std::vector<std::string> trainable;
    for (auto& [name, p] : frozen->named_parameters())
        if (p.requires_grad()) trainable.push_back(name);
    CHECK(trainable == std::vector<std::string>{"fc1.lora_A.weight", "fc1.lora_B.weight"});
}

TEST_CASE("apply_lora: only the adapters get gradients, the Sequential path works", "[lora]") {
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 2, .target_modules = {"fc2", "head.0"}, .freeze_base_model = true});
    randomize_B(*net, 3);
    const Tensor loss = (*net)(input()).pow(2.0).sum();
    loss.backward();
    for (auto& [name, p] : net->named_parameters()) {
        INFO(name);
        const bool adapter = name.find(".lora_") != std::string::npos;
        CHECK(p.grad().defined() == adapter);
        if (adapter) CHECK(p.grad().abs().sum().item<float>() > 0.0f);
    }
}

TEST_CASE("merge_lora / unmerge_lora over a model", "[lora]") {
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 3, .alpha = 6, .target_modules = {"conv", "fc*"}});
    randomize_B(*net, 5);
    const Tensor x = input();
    const Tensor before = (*net)(x).detach();
    const NamedTensors weights = net->state_dict();
    const Tensor base_out = [&] {
        auto plain = std::make_shared<Net>();
        plain->load_state_dict(transfer::base_state_dict(*net));
        return (*plain)(x).detach();
    }();
    CHECK(rel_err(before, base_out) > 1e-3);  // the adapters do something

    transfer::merge_lora(*net);
    CHECK(rel_err((*net)(x).detach(), before) <= 1e-5);
    CHECK_THROWS_WITH(transfer::merge_lora(*net), Contains("'conv' is merged already"));
    // A merged model exports as a plain one: base_state_dict loads into an unwrapped Net.
    auto plain = std::make_shared<Net>();
    plain->load_state_dict(transfer::base_state_dict(*net));
    CHECK(rel_err((*plain)(x).detach(), before) <= 1e-5);

    transfer::unmerge_lora(*net);
    CHECK_THROWS_WITH(transfer::unmerge_lora(*net), Contains("is not merged"));
    for (const auto& [name, t] : net->state_dict()) {
        INFO(name);
        CHECK(rel_err(t, weights.at(name)) <= 1e-6);
    }
    CHECK(rel_err((*net)(x).detach(), before) <= 1e-5);
}

TEST_CASE("save_lora / load_lora: PEFT key names, metadata, round trip", "[lora]") {
    testing::TempDir dir("lora");
    const std::string path = dir.file("adapter_model.safetensors");
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 2, .alpha = 8, .dropout = 0.1, .target_modules = {"conv", "fc*"}});
    randomize_B(*net, 9);
    transfer::save_lora(*net, path);

    const NamedTensors file = io::read_safetensors(path);
    CHECK(file.names() == std::vector<std::string>{
                              "base_model.model.conv.lora_A.weight", "base_model.model.conv.lora_B.weight",
                              "base_model.model.fc1.lora_A.weight", "base_model.model.fc1.lora_B.weight",
                              "base_model.model.fc2.lora_A.weight", "base_model.model.fc2.lora_B.weight"});
    CHECK(file.contains("base_model.model.fc1.lora_A.weight"));
    CHECK(file.at("base_model.model.conv.lora_A.weight").shape() == Shape{2, 3, 3, 3});
    CHECK(file.at("base_model.model.conv.lora_B.weight").shape() == Shape{4, 2, 1, 1});
    CHECK(file.at("base_model.model.fc2.lora_B.weight").shape() == Shape{8, 2});
    CHECK(file.metadata.at("format") == "pt");
    const auto config = nlohmann::json::parse(file.metadata.at("adapter_config"));
    CHECK(config["peft_type"] == "LORA");
    CHECK(config["r"] == 2);
    CHECK(config["lora_alpha"] == 8.0);
    CHECK(config["lora_dropout"] == 0.1);
    CHECK(config["target_modules"] == nlohmann::json({"conv", "fc1", "fc2"}));
    CHECK(config["bias"] == "none");

    // A fresh model with other random A values and another alpha takes the file's.
    net->eval();
    const Tensor x = input();
    const Tensor expected = (*net)(x).detach();
    auto other = std::make_shared<Net>();
    other->load_state_dict(transfer::base_state_dict(*net));
    Generator g(99);
    transfer::apply_lora(*other, {.rank = 2, .alpha = 1, .dropout = 0.1, .target_modules = {"conv", "fc*"}, .gen = &g});
    other->eval();
    CHECK(rel_err((*other)(x).detach(), expected) > 1e-3);
    transfer::load_lora(*other, path);
    CHECK(transfer::lora_layers(*other)[0].second->alpha() == 8.0);
    CHECK(rel_err((*other)(x).detach(), expected) == 0.0);
}

TEST_CASE("load_lora: a PEFT-style file (no metadata config) with adapter_config.json beside it", "[lora]") {
    testing::TempDir dir("lora_peft");
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 2, .alpha = 2, .target_modules = {"fc2"}});
    NamedTensors peft;
    Generator g(4);
    peft.set("base_model.model.fc2.lora_A.weight", randn({2, 16}, DType::Float32, &g));
    peft.set("base_model.model.fc2.lora_B.weight", randn({8, 2}, DType::Float32, &g));
    io::write_safetensors(dir.file("adapter_model.safetensors"), peft, {{"format", "pt"}});
    dir.write("adapter_config.json", R"({"peft_type": "LORA", "r": 2, "lora_alpha": 32, "target_modules": ["fc2"],
                                          "alpha_pattern": {"fc2": 6}})");
    transfer::load_lora(*net, dir.file("adapter_model.safetensors"));
    const auto layer = transfer::lora_layers(*net)[0].second;
    CHECK(layer->alpha() == 6.0);  // alpha_pattern wins over lora_alpha
    CHECK(rel_err(layer->weight_B(), peft.at("base_model.model.fc2.lora_B.weight")) == 0.0);
}

TEST_CASE("lora_base_load_options: a plain checkpoint into a wrapped model", "[lora]") {
    auto source = std::make_shared<Net>();
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 2, .target_modules = {"conv", "fc1"}});
    const Tensor a = net->submodule("fc1.lora_A")->tensor("weight").detach().clone();
    CHECK_THROWS(transfer::load_pretrained(*net, source->state_dict()));
    const auto report = transfer::load_pretrained(*net, source->state_dict(), transfer::lora_base_load_options(*net));
    CHECK(report.ok());
    CHECK(rel_err(net->fc1->weight, source->fc1->weight) == 0.0);
    CHECK(rel_err(net->conv->bias, source->conv->bias) == 0.0);
    CHECK(rel_err(net->submodule("fc1.lora_A")->tensor("weight"), a) == 0.0);  // adapters untouched
    CHECK(rel_err((*net)(input()).detach(), (*source)(input()).detach()) == 0.0);
}

TEST_CASE("LoRA errors name what is wrong", "[lora]") {
    auto net = std::make_shared<Net>();
    CHECK_THROWS_WITH(transfer::apply_lora(*net, {.rank = 0}), Contains("rank must be at least 1, got 0"));
    CHECK_THROWS_WITH(transfer::apply_lora(*net, {.dropout = 1.0}), Contains("dropout must be in [0, 1)"));
    CHECK_THROWS_WITH(transfer::apply_lora(*net, {.target_modules = {"*query"}}),
                      Contains("'*query'") && Contains("fc1 (Linear)") && Contains("conv (Conv2d)"));
    CHECK_THROWS_WITH(transfer::merge_lora(*net), Contains("no LoRA layers"));
    CHECK_THROWS_WITH(transfer::save_lora(*net, "unused.safetensors"), Contains("no LoRA layers"));

    auto grouped = nn::sequential({std::make_shared<nn::Conv2d>(4, 4, 3, nn::Conv2dOptions{.groups = 2})});
    CHECK_THROWS_WITH(transfer::apply_lora(*grouped, {.target_modules = {"*"}}), Contains("'0' is a grouped Conv2d"));

    testing::TempDir dir("lora_err");
    const std::string path = dir.file("a.safetensors");
    transfer::apply_lora(*net, {.rank = 2, .target_modules = {"fc1", "fc2"}});
    transfer::save_lora(*net, path);

    auto wider = std::make_shared<Net>();  // rank 4: shapes differ
    transfer::apply_lora(*wider, {.rank = 4, .target_modules = {"fc1", "fc2"}});
    CHECK_THROWS_WITH(transfer::load_lora(*wider, path),
                      Contains("mismatched  base_model.model.fc1.lora_A.weight: model [4, 144], file [2, 144]") &&
                          Contains("nothing was loaded"));
    auto more = std::make_shared<Net>();  // one more target: missing keys
    transfer::apply_lora(*more, {.rank = 2, .target_modules = {"fc1", "fc2", "conv"}});
    CHECK_THROWS_WITH(transfer::load_lora(*more, path), Contains("missing     base_model.model.conv.lora_A.weight"));
    auto fewer = std::make_shared<Net>();  // one target less: unexpected keys
    transfer::apply_lora(*fewer, {.rank = 2, .target_modules = {"fc1"}});
    CHECK_THROWS_WITH(transfer::load_lora(*fewer, path), Contains("unexpected  base_model.model.fc2.lora_A.weight"));

    transfer::merge_lora(*net);
    CHECK_THROWS_WITH(transfer::load_lora(*net, path), Contains("merged; unmerge_lora first"));
    CHECK_THROWS_WITH(transfer::load_lora(*fewer, dir.file("absent.safetensors")), Contains("absent.safetensors"));
}

TEST_CASE("LoRA dropout acts on the adapter input in training only, adapters follow the base dtype", "[lora]") {
    auto net = nn::sequential({std::make_shared<nn::Linear>(32, 8)});
    transfer::apply_lora(*net, {.rank = 4, .dropout = 0.5, .target_modules = {"0"}});
    randomize_B(*net, 2);
    const Tensor x = ones({3, 32});
    net->eval();
    const Tensor eval_out = (*net)(x).detach();
    CHECK(rel_err((*net)(x).detach(), eval_out) == 0.0);
    net->train();
    CHECK(rel_err((*net)(x).detach(), eval_out) > 1e-4);  // masks drawn on the adapter path

    auto wide = nn::sequential({std::make_shared<nn::Linear>(4, 2)});
    wide->to(DType::Float64);
    transfer::apply_lora(*wide, {.rank = 2});
    const auto layer = transfer::lora_layers(*wide)[0].second;
    CHECK(layer->weight_A().dtype() == DType::Float64);
    CHECK(layer->weight_B().dtype() == DType::Float64);
    CHECK((*wide)(ones({1, 4}, DType::Float64)).dtype() == DType::Float64);
}

TEST_CASE("LoRA: Taps on a wrapped layer's base_layer see the output with the update", "[lora]") {
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 2, .target_modules = {"fc2"}});
    randomize_B(*net, 6);
    nn::Taps taps(*net, {"fc2.base_layer"});
    (*net)(input());
    const auto layer = transfer::lora_layers(*net)[0].second;
    const Tensor h = relu((*net->fc1)((*net->conv)(input()).flatten(1))).detach();
    const Tensor expected = (nn::linear(h, net->fc2->weight, net->fc2->bias) + layer->update(h)).detach();
    CHECK(rel_err(taps["fc2.base_layer"].detach(), expected) <= 1e-6);
}

TEST_CASE("apply_lora: a layer shared by two paths gets one adapter, used at both", "[lora]") {
    auto shared = std::make_shared<nn::Linear>(4, 4);
    auto net = nn::sequential({shared, std::make_shared<nn::ReLU>(), shared});
    CHECK(transfer::apply_lora(*net, {.rank = 2}) == std::vector<std::string>{"0"});
    randomize_B(*net, 8);
    const auto layer = transfer::lora_layers(*net)[0].second;
    const Tensor x = ones({2, 4});
    auto once = [&](const Tensor& t) { return nn::linear(t, shared->weight, shared->bias) + layer->update(t); };
    CHECK(rel_err((*net)(x).detach(), once(relu(once(x))).detach()) <= 1e-6);
}

TEST_CASE("unload_lora: plain structure and names back, merged or not", "[lora]") {
    for (const bool merge : {true, false}) {
        INFO("merge " << merge);
        auto net = std::make_shared<Net>();
        const NamedTensors plain = net->state_dict();
        const Tensor x = input();
        const Tensor base_out = (*net)(x).detach();
        transfer::apply_lora(*net, {.rank = 2, .target_modules = {"conv", "fc*", "head.0"}});
        randomize_B(*net, 12);
        const Tensor adapted = (*net)(x).detach();
        const auto kept = transfer::lora_layers(*net);  // holding the wrappers must not keep their hooks alive
        transfer::unload_lora(*net, merge);
        CHECK(transfer::lora_layers(*net).empty());
        CHECK(net->submodule("fc1")->type_name() == "Linear");
        CHECK(net->state_dict().names() == plain.names());
        CHECK(rel_err((*net)(x).detach(), merge ? adapted : base_out) <= (merge ? 1e-5 : 0.0));
    }
}

TEST_CASE("LoRA on ResNet-18's layer4 convs by glob: start equal, adapters change the output, merge keeps it",
          "[lora]") {
    auto model = nn::models::resnet18({.num_classes = 5});
    model->eval();
    Generator g(21);
    const Tensor x = randn({1, 3, 32, 32}, DType::Float32, &g);
    const Tensor before = (*model)(x).detach();
    const auto wrapped = transfer::apply_lora(*model, {.rank = 4, .target_modules = {"layer4.*.conv2"}});
    CHECK(wrapped == std::vector<std::string>{"layer4.0.conv2", "layer4.1.conv2"});
    CHECK(rel_err((*model)(x).detach(), before) == 0.0);
    randomize_B(*model, 22);
    const Tensor adapted = (*model)(x).detach();
    CHECK(rel_err(adapted, before) > 1e-4);
    transfer::merge_lora(*model);
    CHECK(rel_err((*model)(x).detach(), adapted) <= 1e-5);
}

TEST_CASE("load_lora: PEFT's modules_to_save entries load into the model's own tensors", "[lora]") {
    testing::TempDir dir("lora_mts");
    auto net = std::make_shared<Net>();
    transfer::apply_lora(*net, {.rank = 2, .target_modules = {"fc1"}});
    NamedTensors peft;  // as PEFT 0.13.2 saves modules_to_save=["head"]: the head whole, plain names
    peft.set("base_model.model.head.0.bias", full({3}, 0.5));
    peft.set("base_model.model.head.0.weight", full({3, 8}, 0.25));
    peft.set("base_model.model.fc1.lora_A.weight", full({2, 144}, 1.0));
    peft.set("base_model.model.fc1.lora_B.weight", full({16, 2}, 2.0));
    io::write_safetensors(dir.file("adapter_model.safetensors"), peft, {{"format", "pt"}});
    // Without modules_to_save in the config the head entries are unexpected.
    CHECK_THROWS_WITH(transfer::load_lora(*net, dir.file("adapter_model.safetensors")),
                      Contains("unexpected  base_model.model.head.0.weight [3, 8]"));
    dir.write("adapter_config.json", R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "modules_to_save": ["head"]})");
    transfer::load_lora(*net, dir.file("adapter_model.safetensors"));
    CHECK(net->submodule("head.0")->tensor("weight").max().item<float>() == 0.25f);
    CHECK(net->submodule("head.0")->tensor("bias").min().item<float>() == 0.5f);
    CHECK(transfer::lora_layers(*net)[0].second->weight_B().max().item<float>() == 2.0f);
}
