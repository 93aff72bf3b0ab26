// ResNet-18 (torchvision's layout) trained from scratch on Fashion-MNIST: grey
// input (in_channels 1), the CIFAR stem (3x3 conv, stride 1, no max pool) and
// 10 classes, on images zero-padded from 28x28 to 32x32 as CIFAR-sized inputs.
// SGD with Nesterov momentum 0.9, weight decay 5e-4 and a cosine learning rate,
// batch 64, run by transfer::fit (progress bar, test accuracy after each epoch,
// confusion matrix at the end, optional CSV log and PNG chart).
//
//   [N, 1, 32, 32] -> conv1 3x3 64 -> layer1 (64, 32x32) -> layer2 (128, 16x16)
//                  -> layer3 (256, 8x8) -> layer4 (512, 4x4) -> avgpool -> fc 10
//
// Run:  build/examples/resnet18_fmnist [--epochs 1] [--threads N] [--data DIR]
//                                      [--limit N] [--test-limit N] [--log FILE.csv]
//                                      [--chart FILE.png] [--batch 64] [--lr 0.05] [--seed 42]
// One epoch over all 60,000 images is about 100 TFLOP (1.7 GFLOP per image for
// forward and backward): tens of minutes on a few cores. --limit trains on the
// first N images and --test-limit evaluates on the first N test images.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "graft.h"
#include "io/datasets/fashion_mnist.h"
#include "nn/models/resnet.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "transfer/training/fit.h"

using namespace graft;

namespace {

struct Options {
    int epochs = 1;
    int threads = 0;  // 0: keep GRAFT_NUM_THREADS or the hardware's count
    std::string data = io::kFashionMnistDir;
    int64_t limit = 0;       // 0: all 60,000 training images
    int64_t test_limit = 0;  // 0: all 10,000 test images
    std::string log, chart;
    int64_t batch = 64;
    double lr = 0.05;
    uint64_t seed = 42;
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--epochs N] [--threads N] [--data DIR] [--limit N] [--test-limit N] [--log FILE.csv] "
                 "[--chart FILE.png] [--batch N] [--lr X] [--seed N]\n",
                 argv0);
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage(argv[0]);
        const char* v = argv[++i];
        if (a == "--epochs") o.epochs = std::atoi(v);
        else if (a == "--threads") o.threads = std::atoi(v);
        else if (a == "--data") o.data = v;
        else if (a == "--limit") o.limit = std::atoll(v);
        else if (a == "--test-limit") o.test_limit = std::atoll(v);
        else if (a == "--log") o.log = v;
        else if (a == "--chart") o.chart = v;
        else if (a == "--batch") o.batch = std::atoll(v);
        else if (a == "--lr") o.lr = std::atof(v);
        else if (a == "--seed") o.seed = std::strtoull(v, nullptr, 10);
        else usage(argv[0]);
    }
    if (o.epochs < 1 || o.batch < 1 || o.limit < 0 || o.test_limit < 0 || o.lr <= 0) usage(argv[0]);
    return o;
}

// The first `limit` images (all when 0), uint8 [N, 28, 28] -> float32
// [N, 1, 32, 32]: standardised (mean 0.2860, std 0.3530), then zero-padded by
// 2 pixels on each side. The border is the standardised value of black, as if
// the 32x32 image had been padded before normalising.
Tensor to_padded_inputs(const Tensor& images, int64_t limit) {
    const int64_t n = limit > 0 ? std::min(limit, images.size(0)) : images.size(0);
    const double black = (0.0 - 0.2860) / 0.3530;
    Tensor x = images.slice(0, 0, n).to(DType::Float32).reshape({n, 1, 28, 28});
    x = (x * (1.0 / 255.0) - 0.2860) / 0.3530;
    Tensor padded = full({n, 1, 32, 32}, black);
    padded.slice(2, 2, 30).slice(3, 2, 30).copy_(x);
    return padded;
}

}  // namespace

int main(int argc, char** argv) try {
    const Options opt = parse_args(argc, argv);
    if (opt.threads > 0) set_num_threads(opt.threads);

    const io::FashionMnist train = io::load_fashion_mnist(opt.data, /*train=*/true);
    const io::FashionMnist test = io::load_fashion_mnist(opt.data, /*train=*/false);
    const Tensor x_train = to_padded_inputs(train.images, opt.limit);
    const Tensor y_train = train.labels.slice(0, 0, x_train.size(0));
    const Tensor x_test = to_padded_inputs(test.images, opt.test_limit);
    const Tensor y_test = test.labels.slice(0, 0, x_test.size(0));
    const int64_t n = x_train.size(0);
    std::printf("Fashion-MNIST padded to 32x32: %lld train, %lld test images; %d threads\n", (long long)n,
                (long long)x_test.size(0), get_num_threads());

    Generator gen(opt.seed);
    auto model = nn::models::resnet18({.num_classes = 10, .in_channels = 1, .cifar_stem = true, .gen = &gen});
    std::printf("ResNet-18 (CIFAR stem, grey, 10 classes): %lld parameters\n", (long long)model->num_parameters());
    optim::SGD sgd(model->parameters(), {.lr = opt.lr, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4});
    const int64_t steps_per_epoch = (n + opt.batch - 1) / opt.batch;
    optim::CosineAnnealingLR schedule(sgd, steps_per_epoch * opt.epochs);

    // Each epoch a fresh seeded permutation, gathered batch by batch.
    const transfer::BatchSource train_batches = [&](int64_t, const transfer::BatchVisitor& visit) {
        const Tensor perm = randperm(n, &gen);
        for (int64_t i = 0; i < n; i += opt.batch) {
            const Tensor idx = perm.slice(0, i, std::min(i + opt.batch, n));
            visit(index_select(x_train, 0, idx), index_select(y_train, 0, idx));
        }
    };
    std::vector<transfer::Batch> test_batches;
    for (int64_t i = 0; i < x_test.size(0); i += 250) {
        const int64_t end = std::min(i + 250, x_test.size(0));
        test_batches.push_back({x_test.slice(0, i, end), y_test.slice(0, i, end)});
    }

    transfer::FitOptions fit;
    fit.epochs = opt.epochs;
    fit.num_classes = 10;
    fit.class_names.assign(io::FashionMnist::classes.begin(), io::FashionMnist::classes.end());
    fit.scheduler = &schedule;
    fit.scheduler_per_step = true;
    fit.steps_per_epoch = steps_per_epoch;
    fit.log_path = opt.log;
    fit.chart_path = opt.chart;
    fit.chart_title = "ResNet-18 on Fashion-MNIST (32x32)";
    const transfer::FitResult r =
        transfer::fit(*model, sgd, train_batches, transfer::batches_of(test_batches), fit);

    std::printf("\n%s\n", r.last_val_metrics.confusion_table().c_str());
    std::printf("final test accuracy %.2f%% on %lld images\n", 100 * r.epochs.back().val_acc,
                (long long)x_test.size(0));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
