// graft finetune, graft lr-find and graft predict on the result, run as a user
// runs them, on a tiny image folder and a randomly initialised ResNet-18 saved
// as "pretrained" weights; and the errors for wrong paths, unknown models and
// folders whose class lists disagree.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/ops/creation.h"
#include "core/ops/random.h"
#include "io/formats/read_weights.h"
#include "io/formats/safetensors.h"
#include "io/image/image_write.h"
#include "nn/models/zoo.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"
#include "transfer/finetune/finetuner.h"

using graft::testing::TempDir;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

graft::testing::CommandResult graft_cli(const std::string& args) {
    return graft::testing::run_command(std::string(GRAFT_CLI) + " " + args);
}

// root/<class>/<i>.png: three classes of 32x32 images, each class its own colour.
void write_folder(const fs::path& root, const std::vector<std::string>& classes, int per_class) {
    graft::Generator gen(1);
    for (size_t c = 0; c < classes.size(); ++c) {
        fs::create_directories(root / classes[c]);
        for (int i = 0; i < per_class; ++i) {
            graft::Tensor noise = graft::rand({32, 32, 3}, graft::DType::Float32, &gen) * 60.0;
            graft::Tensor base = graft::full({32, 32, 3}, 60.0 * double(c + 1));
            graft::Tensor img = (noise + base).to(graft::DType::UInt8);
            graft::io::write_png((root / classes[c] / (std::to_string(i) + ".png")).string(), img);
        }
    }
}

// "Pretrained" ResNet-18 weights: a fresh model, saved as a user's download would be.
std::string write_weights(const TempDir& dir) {
    const std::string path = dir.file("resnet18.safetensors");
    graft::manual_seed(0);
    auto entry = graft::nn::models::zoo_model("resnet18", 1000);
    graft::io::write_safetensors(path, entry.model->state_dict());
    return path;
}

}  // namespace

TEST_CASE("graft finetune trains, saves the recipe, and graft predict uses it", "[tools][cli][finetune]") {
    TempDir dir("cli_finetune");
    const std::string weights = write_weights(dir);
    write_folder(dir.path / "data" / "train", {"cat", "dog", "owl"}, 4);
    write_folder(dir.path / "data" / "val", {"cat", "dog", "owl"}, 2);
    const std::string out = dir.file("tuned.safetensors"), summary = dir.file("summary.json");
    const auto r = graft_cli("finetune --model resnet18 --weights " + weights + " --data " +
                             (dir.path / "data").string() + " --image-size 32 --epochs 2,1 --batch-size 4 --out " +
                             out + " --json-summary " + summary + " --no-progress --threads 1");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Contains("new head fc: 3 classes"));
    CHECK_THAT(r.output, Contains("caching the output of stage 'layer3'"));  // layer4 + fc train in phase 2
    CHECK_THAT(r.output, Contains("phase 2/2: top"));
    REQUIRE(fs::exists(out));
    std::ifstream in(summary);
    const auto j = nlohmann::json::parse(in);
    CHECK(j["phases"].size() == 2);
    CHECK(j["eval_accuracy"].get<double>() >= 0);

    const auto recipe = graft::transfer::read_recipe(graft::io::read_weights(out).metadata);
    CHECK(recipe.model_name == "resnet18");
    CHECK(recipe.class_names == std::vector<std::string>{"cat", "dog", "owl"});
    CHECK(recipe.preprocessing.crop == 32);

    const auto p = graft_cli("predict --weights " + out + " --top 3 --json " + (dir.path / "data/val/owl/0.png").string());
    INFO(p.output);
    REQUIRE(p.status == 0);
    const auto pj = nlohmann::json::parse(p.output);
    REQUIRE(pj[0]["top"].size() == 3);
    std::vector<std::string> names;
    for (const auto& g : pj[0]["top"]) names.push_back(g["name"]);
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"cat", "dog", "owl"});

    const auto wrong = graft_cli("predict --model mobilenet_v2 --weights " + out + " " +
                                 (dir.path / "data/val/owl/0.png").string());
    CHECK(wrong.status == 1);
    CHECK_THAT(wrong.output, Contains("fine-tuned 'resnet18', not 'mobilenet_v2'"));
}

TEST_CASE("graft lr-find sweeps the probe phase and draws the curve", "[tools][cli][finetune]") {
    TempDir dir("cli_lrfind");
    const std::string weights = write_weights(dir);
    write_folder(dir.path / "data", {"a", "b"}, 6);  // one folder: split into train and eval
    const std::string chart = dir.file("lr.png");
    const auto r = graft_cli("lr-find --model resnet18 --weights " + weights + " --data " +
                             (dir.path / "data").string() + " --image-size 32 --batch-size 2 --steps 8 --chart " +
                             chart + " --threads 1");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Contains("suggested learning rate"));
    CHECK(fs::file_size(chart) > 100);
}

TEST_CASE("graft finetune explains wrong paths, unknown models and disagreeing class folders",
          "[tools][cli][finetune]") {
    TempDir dir("cli_finetune_errors");
    const std::string weights = write_weights(dir);
    write_folder(dir.path / "data", {"a", "b"}, 2);

    auto r = graft_cli("finetune --model resnet18 --weights " + dir.file("nope.pth") + " --data fashion-mnist");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("no such weights file") && Contains("nope.pth"));

    r = graft_cli("finetune --model resnet19 --weights " + weights + " --data fashion-mnist");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("unknown model 'resnet19'") && Contains("resnet18"));

    r = graft_cli("finetune --model resnet18 --weights " + weights + " --data " + dir.file("missing"));
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("missing") && Contains("neither a folder"));

    write_folder(dir.path / "split" / "train", {"a", "b"}, 2);
    write_folder(dir.path / "split" / "val", {"a", "c"}, 1);
    r = graft_cli("finetune --model resnet18 --weights " + weights + " --data " + (dir.path / "split").string() +
                  " --image-size 32");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("class folders") && Contains("differ"));

    r = graft_cli("finetune --model resnet18 --weights " + weights + " --data " + (dir.path / "data").string() +
                  " --epochs 0,0");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("zero epochs"));
}
