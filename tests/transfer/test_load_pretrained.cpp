// transfer::load_pretrained: renames, prefixes, skips, optional num_batches_tracked,
// shape-mismatch policy, strict mode, dtype conversion, the table, and files by content.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "graft.h"
#include "io/formats/safetensors.h"
#include "nn/layers/container.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "transfer/load_pretrained.h"

using namespace graft;
using transfer::LoadOptions;
using transfer::load_pretrained;

namespace {

// "0" Linear(3, 4), "1" BatchNorm1d(4), "2" Linear(4, 2): a body and a head.
std::shared_ptr<nn::Sequential> small_model(int64_t classes = 2) {
    return nn::sequential({std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::BatchNorm1d>(4),
                           std::make_shared<nn::Linear>(4, classes)});
}

NamedTensors source_of(const nn::Module& m, const std::string& prefix = "") {
    NamedTensors out;
    float v = 1;
    for (const auto& [name, t] : m.state_dict()) {
        Tensor c = t.detach().to(t.dtype()).contiguous();
        Tensor filled = full(t.shape(), double(v++), t.dtype());
        out.set(prefix + name, filled);
    }
    return out;
}

float first(const Tensor& t) { return t.contiguous().to(DType::Float32).reshape({-1}).data<float>()[0]; }

}  // namespace

TEST_CASE("load_pretrained: exact names load everything", "[load_pretrained]") {
    auto model = small_model();
    const NamedTensors src = source_of(*small_model());
    const auto report = load_pretrained(*model, src);
    CHECK(report.ok());
    CHECK(report.loaded.size() == src.size());
    CHECK(first(model->state_dict().at("2.bias")) == Approx(first(src.at("2.bias"))));
    CHECK(report.table().find("loaded 9") == 0);
}

TEST_CASE("load_pretrained: prefixes, gamma/beta and regex renames", "[load_pretrained]") {
    auto model = small_model();
    NamedTensors src;
    for (const auto& [name, t] : source_of(*small_model())) {
        std::string n = name;
        if (n == "1.weight") n = "1.gamma";
        if (n == "1.bias") n = "1.beta";
        if (n.rfind("2.", 0) == 0) n = "head." + n.substr(2);
        src.set("module.bert." + n, t);
    }
    CHECK_THROWS_WITH(load_pretrained(*model, src), Catch::Contains("UNEXPECTED") && Catch::Contains("MISSING") &&
                                                        Catch::Contains("nothing was loaded"));
    const auto report = load_pretrained(
        *model, src, {.strip_prefixes = {"module.", "bert."}, .rename = {{"^head\\.", "2."}}});
    CHECK(report.ok());
    CHECK(report.renamed == int64_t(src.size()));
    CHECK(first(model->state_dict().at("1.weight")) == Approx(first(src.at("module.bert.1.gamma"))));
    CHECK(report.table().find("from module.bert.1.gamma") != std::string::npos);

    NamedTensors clash;
    clash.set("1.gamma", ones({4}));
    clash.set("1.weight", ones({4}));
    CHECK_THROWS_WITH(load_pretrained(*model, clash, {.strict = false}), Catch::Contains("both map to '1.weight'"));
    CHECK_THROWS_WITH(load_pretrained(*model, src, {.rename = {{"(", "x"}}}), Catch::Contains("not a valid regex"));
}

TEST_CASE("load_pretrained: skip globs keep a new head; shape policy", "[load_pretrained]") {
    auto model = small_model(5);  // new head: 5 classes
    const NamedTensors src = source_of(*small_model(2));
    const float head_before = first(model->state_dict().at("2.weight"));

    CHECK_THROWS_WITH(load_pretrained(*model, src), Catch::Contains("MISMATCHED") && Catch::Contains("would load 7") && Catch::Contains("[5, 4]") &&
                                                        Catch::Contains("[2, 4]"));
    CHECK(first(model->state_dict().at("0.weight")) != Approx(first(src.at("0.weight"))));  // nothing loaded

    auto report = load_pretrained(*model, src, {.skip = {"2.*"}});
    CHECK(report.ok());
    CHECK(report.skipped.size() == 2);
    CHECK(report.kept.size() == 2);
    CHECK(first(model->state_dict().at("2.weight")) == head_before);
    CHECK(first(model->state_dict().at("0.weight")) == Approx(first(src.at("0.weight"))));

    report = load_pretrained(*model, src, {.on_shape_mismatch = transfer::ShapeMismatch::Skip});
    CHECK_FALSE(report.ok());
    CHECK(report.mismatched.size() == 2);
    CHECK(report.loaded.size() == src.size() - 2);
    CHECK(report.table().find("MISMATCHED") != std::string::npos);

    CHECK(transfer::glob_match("fc.*", "fc.weight"));
    CHECK_FALSE(transfer::glob_match("fc.*", "xfc.weight"));
    CHECK(transfer::glob_match("*.num_batches_?racked", "a.b.num_batches_tracked"));
    CHECK(transfer::glob_match("*", ""));
}

TEST_CASE("load_pretrained: num_batches_tracked optional, strict off, dtype conversion", "[load_pretrained]") {
    auto model = small_model();
    NamedTensors src = source_of(*small_model());
    src.erase("1.num_batches_tracked");
    auto report = load_pretrained(*model, src);
    CHECK(report.ok());
    CHECK(report.optional_absent == std::vector<std::string>{"1.num_batches_tracked"});
    CHECK_THROWS_WITH(load_pretrained(*model, src, {.require_num_batches_tracked = true}),
                      Catch::Contains("1.num_batches_tracked"));

    src.erase("0.bias");
    src.set("extra.weight", ones({1}));
    CHECK_THROWS(load_pretrained(*model, src));
    report = load_pretrained(*model, src, {.strict = false});
    CHECK(report.missing.size() == 1);
    CHECK(report.unexpected.size() == 1);

    NamedTensors f64;
    for (const auto& [name, t] : source_of(*small_model()))
        f64.set(name, t.dtype() == DType::Float32 ? t.to(DType::Float64) : t);
    report = load_pretrained(*model, f64);
    CHECK(model->state_dict().at("0.weight").dtype() == DType::Float32);
    CHECK(report.loaded.front().source_dtype == DType::Float64);
    CHECK(report.table().find("float64 -> float32") != std::string::npos);
    CHECK(report.table(true).find("0.weight") != std::string::npos);
}

TEST_CASE("load_pretrained: files picked by content", "[load_pretrained]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("graft_load_pretrained_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto model = small_model();
    const NamedTensors src = source_of(*small_model());
    const std::string st = (dir / "weights.bin").string();  // the name says nothing
    io::write_safetensors(st, src);
    CHECK(load_pretrained(*model, st).ok());
    CHECK(first(model->state_dict().at("2.bias")) == Approx(first(src.at("2.bias"))));

    const std::string junk = (dir / "junk.pth").string();
    std::ofstream(junk) << "hello, world";
    CHECK_THROWS_WITH(load_pretrained(*model, junk), Catch::Contains("junk.pth") && Catch::Contains("not a weights file"));
    CHECK_THROWS_WITH(load_pretrained(*model, (dir / "absent").string()), Catch::Contains("cannot open"));

    auto wide = small_model(3);
    CHECK_THROWS_WITH(load_pretrained(*wide, st), Catch::Contains("weights.bin") && Catch::Contains("Sequential"));
    fs::remove_all(dir);
}
