// nn::models::resnet18/34/50: state_dict names, order, shapes and parameter
// counts against torchvision 0.14 (tests/fixtures/resnet_names.json, made by
// make_resnet_names.py), with the default stem and with in_channels 1 + CIFAR
// stem + 10 classes; forward shapes; torchvision's init; argument errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "core/autograd/grad_mode.h"
#include "nn/models/resnet.h"
#include "tests/support/fixtures.h"

using namespace graft;
using nlohmann::json;

namespace {

const json& names_fixture() {
    static const json j = [] {
        json f = testing::load_fixture("resnet_names.json");
        if (f.value("format", "") != "graft-resnet-names/1")
            throw Error("resnet_names.json has an unknown format; regenerate with: " + f.value("command", std::string()));
        return f;
    }();
    return j;
}

std::shared_ptr<nn::models::ResNet> build(const std::string& arch, const nn::models::ResNetOptions& o) {
    if (arch == "resnet18") return nn::models::resnet18(o);
    if (arch == "resnet34") return nn::models::resnet34(o);
    return nn::models::resnet50(o);
}

// Building a model draws every weight twice (Conv2d's default, then
// torchvision's init): seconds for ResNet-50 on a loaded machine, so the tests
// that only read a model share one per (arch, variant).
nn::models::ResNet& shared_model(const std::string& arch, bool cifar_grey10) {
    static std::map<std::string, std::shared_ptr<nn::models::ResNet>> cache;
    const std::string key = arch + (cifar_grey10 ? "_cifar_grey10" : "");
    auto& slot = cache[key];
    if (!slot) {
        Generator gen(1);
        slot = cifar_grey10 ? build(arch, {.num_classes = 10, .in_channels = 1, .cifar_stem = true, .gen = &gen})
                            : build(arch, {.gen = &gen});
    }
    return *slot;
}

// Compares the model's state_dict with torchvision's, entry by entry, and which
// of them are parameters (the rest are buffers).
void expect_torchvision_tree(nn::Module& model, const json& want) {
    const NamedTensors sd = model.state_dict();
    const json& entries = want["entries"];
    REQUIRE(sd.size() == entries.size());
    const auto params = model.named_parameters();
    size_t i = 0, p = 0;
    for (const auto& [name, tensor] : sd) {
        const json& e = entries[i++];
        INFO("entry " << i - 1 << ": " << name);
        REQUIRE(name == e[0].get<std::string>());
        CHECK(tensor.shape() == Shape(e[1].get<std::vector<int64_t>>()));
        const bool is_param = e[2].get<bool>();
        if (is_param) {
            REQUIRE(p < params.size());
            CHECK(params[p++].first == name);
        }
    }
    CHECK(p == params.size());
    CHECK(model.num_parameters() == want["num_parameters"].get<int64_t>());
}

}  // namespace

TEST_CASE("ResNet-18/34/50 have torchvision's state_dict names, order, shapes and counts", "[nn][resnet]") {
    for (const std::string arch : {"resnet18", "resnet34", "resnet50"}) {
        INFO(arch);
        expect_torchvision_tree(shared_model(arch, false), names_fixture()["models"][arch]);
        expect_torchvision_tree(shared_model(arch, true), names_fixture()["models"][arch + "_cifar_grey10"]);
    }
    // The numbers FORMATS.md quotes, independent of the fixture.
    CHECK(shared_model("resnet18", false).state_dict().size() == 122);
    CHECK(shared_model("resnet18", false).num_parameters() == 11689512);
}

TEST_CASE("ResNet forward shapes", "[nn][resnet]") {
    NoGradGuard no_grad;
    Generator gen(2);
    nn::models::ResNet& r18 = shared_model("resnet18", false);
    r18.eval();
    CHECK(r18(randn({2, 3, 64, 64}, DType::Float32, &gen)).shape() == Shape{2, 1000});
    CHECK(r18.features(randn({1, 3, 40, 48}, DType::Float32, &gen)).shape() == Shape{1, 512});
    CHECK(r18.maxpool->type_name() == "MaxPool2d");

    nn::models::ResNet& cifar = shared_model("resnet18", true);
    cifar.train();
    CHECK(cifar(randn({2, 1, 32, 32}, DType::Float32, &gen)).shape() == Shape{2, 10});
    CHECK(cifar.maxpool->type_name() == "Identity");

    nn::models::ResNet& r50 = shared_model("resnet50", false);
    r50.eval();
    CHECK(r50.features(randn({1, 3, 32, 32}, DType::Float32, &gen)).shape() == Shape{1, 2048});
    CHECK(r50(randn({1, 3, 32, 32}, DType::Float32, &gen)).shape() == Shape{1, 1000});
}

TEST_CASE("ResNet init follows torchvision: kaiming_normal fan_out for convs, identity BatchNorm", "[nn][resnet]") {
    nn::models::ResNet* model = &shared_model("resnet18", false);
    // layer3.0.conv2: [256, 256, 3, 3], fan_out = 256 * 9, std sqrt(2 / fan_out).
    const auto w = model->submodule("layer3.0.conv2")->tensor("weight").to_vector<double>();
    double sum = 0, sq = 0;
    for (double v : w) sum += v, sq += v * v;
    const double mean = sum / double(w.size()), sd = std::sqrt(sq / double(w.size()) - mean * mean);
    CHECK(std::fabs(mean) < 2e-4);
    CHECK(sd == Approx(std::sqrt(2.0 / (256 * 9))).epsilon(0.01));
    const Tensor bn_w = model->submodule("layer2.1.bn1")->tensor("weight");
    const Tensor bn_b = model->submodule("layer2.1.bn1")->tensor("bias");
    CHECK(bn_w.to_vector<double>() == std::vector<double>(128, 1.0));
    CHECK(bn_b.to_vector<double>() == std::vector<double>(128, 0.0));
    // fc keeps Linear's default U(-1/sqrt(512), 1/sqrt(512)).
    double largest = 0;
    for (double v : model->fc->weight.to_vector<double>()) largest = std::max(largest, std::fabs(v));
    CHECK(largest <= 1.0 / std::sqrt(512.0));
    CHECK(largest > 0.9 / std::sqrt(512.0));

    // Seeded: the same generator seed gives the same model.
    Generator g1(9), g2(9);
    nn::models::ResNet a(nn::models::BlockKind::Basic, {1, 1, 1, 1}, {.num_classes = 10, .gen = &g1});
    nn::models::ResNet b(nn::models::BlockKind::Basic, {1, 1, 1, 1}, {.num_classes = 10, .gen = &g2});
    CHECK(a.conv1->weight.to_vector<float>() == b.conv1->weight.to_vector<float>());
    CHECK(a.layer4->at<nn::models::BasicBlock>(0)->conv2->weight.to_vector<float>() ==
          b.layer4->at<nn::models::BasicBlock>(0)->conv2->weight.to_vector<float>());
    CHECK(a.fc->weight.to_vector<float>() == b.fc->weight.to_vector<float>());
}

TEST_CASE("ResNet state_dict round-trips into a second model", "[nn][resnet]") {
    Generator g1(4), g2(5);
    nn::models::ResNet* a = &shared_model("resnet18", true);
    auto b = nn::models::resnet18({.num_classes = 10, .in_channels = 1, .cifar_stem = true, .gen = &g2});
    const nn::LoadReport report = b->load_state_dict(a->state_dict());
    CHECK(report.ok());
    CHECK(report.loaded.size() == 122);
    NoGradGuard no_grad;
    a->eval();
    b->eval();
    const Tensor x = randn({1, 1, 32, 32}, DType::Float32, &g1);
    CHECK((*a)(x).to_vector<float>() == (*b)(x).to_vector<float>());
    // An ImageNet-stem state_dict does not fit the CIFAR grey stem: conv1 is reported.
    NamedTensors imagenet_stem = a->state_dict();
    imagenet_stem.set("conv1.weight", zeros({64, 3, 7, 7}));
    const nn::LoadReport mismatch = b->load_state_dict(imagenet_stem, false);
    REQUIRE(mismatch.mismatched.size() == 1);
    CHECK(mismatch.mismatched[0].name == "conv1.weight");
}

TEST_CASE("ResNet rejects bad arguments and inputs with Errors", "[nn][resnet]") {
    CHECK_THROWS_AS(nn::models::ResNet(nn::models::BlockKind::Basic, {2, 2, 2}), Error);
    CHECK_THROWS_AS(nn::models::ResNet(nn::models::BlockKind::Basic, {2, 0, 2, 2}), Error);
    CHECK_THROWS_AS(nn::models::resnet18({.num_classes = 0}), Error);
    nn::models::ResNet& model = shared_model("resnet18", true);
    NoGradGuard no_grad;
    CHECK_THROWS_WITH(model(zeros({2, 3, 32, 32})), Catch::Contains("[N, 1, H, W]"));
    CHECK_THROWS_AS(model(zeros({1, 32, 32})), Error);
}
