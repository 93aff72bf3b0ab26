// graft predict --model NAME --weights FILE IMAGE...: ImageNet classification of
// photos with pretrained zoo weights. Each image is decoded as RGB, prepared as
// torchvision's eval transform for that model (resize the shorter side, centre
// crop, to tensor, normalise with the weights' mean/std: nn/models/zoo.h), run
// through the model in eval mode without autograd, and the top-k softmax
// probabilities are printed with the ImageNet class names (io/data/).
// Weights load strictly: a file for another architecture fails with the
// LoadReport table (what is missing, unexpected or of another shape).
//
// A model saved by `graft finetune` (or transfer::Finetuner) carries its recipe
// in the safetensors metadata: the zoo name, the classes and their names, the
// input size and normalisation. Then --model may be left out, and the images
// are prepared and labelled the way the fine-tune saw them.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops/softmax.h"
#include "io/data/imagenet_classes.h"
#include "io/image/image_read.h"
#include "io/transforms/transforms.h"
#include "nn/models/zoo.h"
#include "tools/graft/commands.h"
#include "io/formats/read_weights.h"
#include "transfer/finetune/finetuner.h"
#include "transfer/load_pretrained.h"

namespace graft::cli {

namespace {

struct PredictArgs {
    std::string model, weights;
    std::vector<std::string> images;
    int64_t top = 5;
    bool json = false;
};

struct Guess {
    int64_t index;
    double probability;
};

std::vector<Guess> top_k(const Tensor& probabilities, int64_t k) {
    const Tensor p = probabilities.contiguous();
    const float* v = p.data<float>();
    std::vector<int64_t> order(size_t(p.numel()));
    std::iota(order.begin(), order.end(), 0);
    // stable: ties keep the lower index first, as torch.topk does on CPU in practice
    std::stable_sort(order.begin(), order.end(), [v](int64_t a, int64_t b) { return v[a] > v[b]; });
    std::vector<Guess> out;
    for (int64_t i = 0; i < k && i < int64_t(order.size()); ++i) out.push_back({order[i], double(v[order[i]])});
    return out;
}

void run_predict(const PredictArgs& a) {
    // An unknown --model first (zoo_model's error lists the known names), then
    // missing files: before minutes of work on the others, and not reported as
    // weights that do not fit.
    const auto& known = nn::models::zoo_model_names();
    if (!a.model.empty() && std::find(known.begin(), known.end(), a.model) == known.end())
        nn::models::zoo_model(a.model);  // throws, naming the known models
    check(std::filesystem::is_regular_file(a.weights), "predict", "no such weights file: ", a.weights,
          " (tools/fetch_weights.sh installs efficientnet-lite0-57934424.pth)");
    for (const auto& path : a.images)
        check(std::filesystem::is_regular_file(path), "predict", "no such image file: ", path);
    const NamedTensors weights = io::read_weights(a.weights);
    const transfer::SavedRecipe recipe = transfer::read_recipe(weights.metadata);
    const bool finetuned = !recipe.model_name.empty();
    check(finetuned || !a.model.empty(), "predict", "--model is required: ", a.weights,
          " carries no fine-tuning recipe that would name it");
    check(!finetuned || a.model.empty() || a.model == recipe.model_name, "predict", a.weights, " holds a fine-tuned '",
          recipe.model_name, "', not '", a.model, "'");
    const std::string model_name = finetuned ? recipe.model_name : a.model;
    const int64_t classes = finetuned ? recipe.num_classes : 1000;
    check(a.top >= 1, "predict", "--top must be at least 1, got ", a.top);  // more than `classes` prints them all
    auto zoo = nn::models::zoo_model(model_name, classes, finetuned ? recipe.preprocessing.crop : 0);
    try {
        transfer::load_pretrained(*zoo.model, weights);
    } catch (const Error& e) {
        throw Error(cat_str("predict: the weights do not fit model '", model_name, "' (", a.weights, "):\n", e.what()));
    }
    zoo.model->eval();
    const auto pre = finetuned ? recipe.preprocessing : zoo.preprocessing;
    using namespace io::transforms;
    const std::vector<double> mean(pre.mean.begin(), pre.mean.end()), std(pre.std.begin(), pre.std.end());
    const Compose transform =
        finetuned && recipe.resize_direct
            ? Compose({make<Resize>(Size(pre.crop, pre.crop)), make<ToTensor>(), make<Normalize>(mean, std)})
            : Compose({make<Resize>(Size(pre.resize)), make<CenterCrop>(pre.crop), make<ToTensor>(),
                       make<Normalize>(mean, std)});
    std::vector<std::string> names;
    if (finetuned) {
        names = recipe.class_names;
        for (int64_t i = int64_t(names.size()); i < classes; ++i) names.push_back("class " + std::to_string(i));
    } else {
        for (const auto& n : io::imagenet_classes()) names.emplace_back(n);
    }
    nlohmann::ordered_json results = nlohmann::json::array();
    NoGradGuard no_grad;
    for (const auto& path : a.images) {
        const Tensor x = transform(io::read_image(path, io::ImageChannels::rgb)).unsqueeze(0);
        const Tensor logits = (*zoo.model)(x);
        check(logits.dim() == 2 && logits.size(1) == classes, "predict", "model output ",
              shape_str(logits.shape()), ", expected [1, ", classes, "]");
        const auto guesses = top_k(softmax(logits, 1).reshape({classes}), a.top);
        if (a.json) {
            nlohmann::ordered_json j;
            j["image"] = path;
            j["top"] = nlohmann::json::array();
            for (const auto& g : guesses)
                j["top"].push_back({{"index", g.index}, {"name", names[size_t(g.index)]}, {"probability", g.probability}});
            results.push_back(j);
            continue;
        }
        std::printf("%s\n", path.c_str());
        for (const auto& g : guesses)
            std::printf("  %6.2f%%  %4lld  %s\n", 100 * g.probability, (long long)g.index,
                        std::string(names[size_t(g.index)]).c_str());
    }
    if (a.json) std::printf("%s\n", results.dump(2).c_str());
}

}  // namespace

void add_predict(CLI::App& app) {
    auto args = std::make_shared<PredictArgs>();
    std::string known;
    for (const auto& n : nn::models::zoo_model_names()) known += (known.empty() ? "" : ", ") + n;
    CLI::App* cmd = app.add_subcommand("predict", "Classify images with a pretrained ImageNet model or a fine-tuned one");
    cmd->add_option("--model", args->model, "one of: " + known + " (optional for a graft finetune output)");
    cmd->add_option("--weights", args->weights, "pretrained weights (.pth/.pt/.bin, .safetensors, .onnx) or a graft finetune output")->required();
    cmd->add_option("--top", args->top, "how many classes to print per image (default 5)");
    cmd->add_flag("--json", args->json, "print JSON instead of text");
    cmd->add_option("images", args->images, "image files (JPEG, PNG, BMP, GIF)")->required();
    cmd->callback([args] { run_predict(*args); });
}

}  // namespace graft::cli
