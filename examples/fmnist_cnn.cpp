// A small CNN trained on Fashion-MNIST with Graft's modules, optimizer and
// training loop: nn::models::small_cnn (two conv-BN-ReLU-pool stages, fc 128,
// dropout, fc 10), cross-entropy, Adam with a cosine learning rate over all
// steps, batch 128, run by transfer::fit (progress bar, test accuracy after
// every epoch, confusion matrix at the end, optional CSV log and PNG chart).
//
//   [N, 1, 28, 28] -> conv 32 -> pool -> conv 64 -> pool -> fc 128 -> fc 10
//
// Run:  build/examples/fmnist_cnn [--epochs 5] [--threads N] [--data DIR] [--limit N]
//                                 [--log FILE.csv] [--chart FILE.png]
//                                 [--batch 128] [--lr 0.002] [--seed 42]
// --limit trains on the first N training images only (quick runs); the test set
// is always all 10,000. Data: Debian's dataset-fashion-mnist.
// Aim: >= 91% test accuracy after 5 epochs. Measured (seed 42, 2 threads): test accuracy
// 88.91, 90.19, 91.29, 91.90, 92.06% after epochs 1-5.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "graft.h"
#include "io/datasets/fashion_mnist.h"
#include "nn/models/small_cnn.h"
#include "nn/optim/adam.h"
#include "nn/optim/schedule.h"
#include "transfer/training/fit.h"

using namespace graft;

namespace {

struct Options {
    int epochs = 5;
    int threads = 0;  // 0: keep GRAFT_NUM_THREADS or the hardware's count
    std::string data = io::kFashionMnistDir;
    int64_t limit = 0;  // 0: the whole training set
    std::string log, chart;
    int64_t batch = 128;
    double lr = 2e-3;
    uint64_t seed = 42;
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--epochs N] [--threads N] [--data DIR] [--limit N] [--log FILE.csv] [--chart FILE.png] "
                 "[--batch N] [--lr X] [--seed N]\n",
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
        else if (a == "--log") o.log = v;
        else if (a == "--chart") o.chart = v;
        else if (a == "--batch") o.batch = std::atoll(v);
        else if (a == "--lr") o.lr = std::atof(v);
        else if (a == "--seed") o.seed = std::strtoull(v, nullptr, 10);
        else usage(argv[0]);
    }
    if (o.epochs < 1 || o.batch < 1 || o.limit < 0 || o.lr <= 0) usage(argv[0]);
    return o;
}

// uint8 [N, 28, 28] -> float32 [N, 1, 28, 28], standardised with the training
// set's pixel mean and std (0.2860, 0.3530).
Tensor to_inputs(const Tensor& images) {
    Tensor x = images.to(DType::Float32).reshape({images.size(0), 1, 28, 28});
    return (x * (1.0 / 255.0) - 0.2860) / 0.3530;
}

}  // namespace

int main(int argc, char** argv) try {
    const Options opt = parse_args(argc, argv);
    if (opt.threads > 0) set_num_threads(opt.threads);

    const io::FashionMnist train = io::load_fashion_mnist(opt.data, /*train=*/true);
    const io::FashionMnist test = io::load_fashion_mnist(opt.data, /*train=*/false);
    const int64_t n = opt.limit > 0 ? std::min(opt.limit, train.images.size(0)) : train.images.size(0);
    const Tensor x_train = to_inputs(train.images.slice(0, 0, n)), y_train = train.labels.slice(0, 0, n);
    const Tensor x_test = to_inputs(test.images);
    std::printf("Fashion-MNIST: %lld train, %lld test images; %d threads\n", (long long)n,
                (long long)x_test.size(0), get_num_threads());

    Generator gen(opt.seed);  // init, shuffling and dropout masks
    auto model = nn::models::small_cnn({.gen = &gen});
    std::printf("%s\n", model->str().c_str());
    optim::Adam adam(model->parameters(), {.lr = opt.lr});
    const int64_t steps_per_epoch = (n + opt.batch - 1) / opt.batch;
    optim::CosineAnnealingLR schedule(adam, steps_per_epoch * opt.epochs);

    // Each epoch a fresh seeded permutation, gathered batch by batch.
    const transfer::BatchSource train_batches = [&](int64_t, const transfer::BatchVisitor& visit) {
        const Tensor perm = randperm(n, &gen);
        for (int64_t i = 0; i < n; i += opt.batch) {
            const Tensor idx = perm.slice(0, i, std::min(i + opt.batch, n));
            visit(index_select(x_train, 0, idx), index_select(y_train, 0, idx));
        }
    };
    std::vector<transfer::Batch> test_batches;
    for (int64_t i = 0; i < x_test.size(0); i += 1000)
        test_batches.push_back({x_test.slice(0, i, i + 1000), test.labels.slice(0, i, i + 1000)});

    transfer::FitOptions fit;
    fit.epochs = opt.epochs;
    fit.num_classes = 10;
    fit.class_names.assign(io::FashionMnist::classes.begin(), io::FashionMnist::classes.end());
    fit.scheduler = &schedule;
    fit.scheduler_per_step = true;
    fit.steps_per_epoch = steps_per_epoch;
    fit.log_path = opt.log;
    fit.chart_path = opt.chart;
    fit.chart_title = "small CNN on Fashion-MNIST";
    const transfer::FitResult r =
        transfer::fit(*model, adam, train_batches, transfer::batches_of(test_batches), fit);

    std::printf("\n%s\n", r.last_val_metrics.confusion_table().c_str());
    std::printf("final test accuracy %.2f%%\n", 100 * r.epochs.back().val_acc);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
