// Training speed and peak memory of whole models in Graft; torch_train.py does
// the same work in PyTorch and run.sh puts the two side by side. One case per
// process, so the peak RSS (getrusage ru_maxrss) belongs to that case alone.
//
//   mlp       MLP 784-512-256-10 (nn::Linear, ReLU), SGD momentum 0.9 lr 0.02,
//             batch 128, one Fashion-MNIST epoch (60,000 images, 469 steps)
//   cnn       nn::models::small_cnn (examples/fmnist_cnn's model: conv-BN-ReLU-pool
//             x2, fc 128, dropout 0.25, fc 10), Adam lr 2e-3, batch 128, one epoch
//   resnet18  ResNet-18 (torchvision's ImageNet stem: 7x7/2 conv + max pool, as the
//             issue's reference figure), 3x32x32 input, 10 classes, SGD momentum 0.9
//   resnet18_cifar  the same with the CIFAR stem (3x3/1 conv, no pool): 16x the work
//             lr 0.01, batch 64 of fixed random data; median step time over
//             --steps steps after --warmup steps
//
// Epoch cases shuffle with a seeded permutation and gather each batch with
// index_select (as the examples do); the time covers everything from the
// first batch to the last optimizer step, not the data loading before it.
//
// Run:   train_bench --case mlp|cnn|resnet18|resnet18_cifar [--threads N] [--limit N]
//                    [--steps 20] [--warmup 3] [--data DIR]
// Output: comment lines starting with '#', then one line
//   <case> <seconds> <peak_rss_kib> <final_loss>
// where seconds is the epoch time (mlp, cnn) or the median step time (resnet18).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmarks/bench_util.h"
#include "graft.h"
#include "io/datasets/fashion_mnist.h"
#include "nn/models/resnet.h"
#include "nn/models/small_cnn.h"
#include "nn/nn.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"

using namespace graft;

namespace {

using graft::bench::peak_rss_kib;
using graft::bench::seconds_since;

struct Args {
    std::string name;
    int threads = 1;
    int64_t limit = 0;  // epoch cases: first N training images (0: all)
    int steps = 20;
    int warmup = 3;
    std::string data = io::kFashionMnistDir;
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s --case mlp|cnn|resnet18|resnet18_cifar [--threads N] [--limit N] [--steps N] [--warmup N] [--data DIR]\n",
                 argv0);
    std::exit(2);
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) usage(argv[0]);
        const char* v = argv[++i];
        if (k == "--case") a.name = v;
        else if (k == "--threads") a.threads = std::atoi(v);
        else if (k == "--limit") a.limit = std::atoll(v);
        else if (k == "--steps") a.steps = std::atoi(v);
        else if (k == "--warmup") a.warmup = std::atoi(v);
        else if (k == "--data") a.data = v;
        else usage(argv[0]);
    }
    if ((a.name != "mlp" && a.name != "cnn" && a.name != "resnet18" && a.name != "resnet18_cifar") || a.threads < 1 || a.steps < 1 || a.warmup < 0)
        usage(argv[0]);
    return a;
}

// Standardised Fashion-MNIST training images, [N, 784] or [N, 1, 28, 28].
Tensor load_inputs(const io::FashionMnist& train, int64_t n, bool flat) {
    Tensor x = train.images.slice(0, 0, n).to(DType::Float32);
    x = (x * (1.0 / 255.0) - 0.2860) / 0.3530;
    return flat ? x.reshape({n, 784}) : x.reshape({n, 1, 28, 28});
}

// One epoch of `model` with `opt`, batch 128; returns {seconds, last loss}.
std::pair<double, double> run_epoch(nn::Module& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y,
                                    Generator& gen) {
    const int64_t n = x.size(0), batch = 128;
    const Tensor perm = randperm(n, &gen);
    double last = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < n; i += batch) {
        const Tensor idx = perm.slice(0, i, std::min(i + batch, n));
        const Tensor loss = cross_entropy(model(index_select(x, 0, idx)), index_select(y, 0, idx));
        opt.zero_grad();
        loss.backward();
        opt.step();
        if (i + batch >= n) last = loss.item<double>();
    }
    return {seconds_since(t0), last};
}

std::pair<double, double> bench_epoch(const Args& a) {
    const io::FashionMnist train = io::load_fashion_mnist(a.data, /*train=*/true);
    const int64_t n = a.limit > 0 ? std::min(a.limit, train.images.size(0)) : train.images.size(0);
    const Tensor y = train.labels.slice(0, 0, n);
    Generator gen(42);
    if (a.name == "mlp") {
        const Tensor x = load_inputs(train, n, /*flat=*/true);
        auto model = nn::sequential({std::make_shared<nn::Linear>(784, 512), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::Linear>(512, 256), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::Linear>(256, 10)});
        optim::SGD sgd(model->parameters(), {.lr = 0.02, .momentum = 0.9});
        return run_epoch(*model, sgd, x, y, gen);
    }
    const Tensor x = load_inputs(train, n, /*flat=*/false);
    auto model = nn::models::small_cnn({.gen = &gen});
    optim::Adam adam(model->parameters(), {.lr = 2e-3});
    return run_epoch(*model, adam, x, y, gen);
}

std::pair<double, double> bench_resnet18(const Args& a) {
    Generator gen(42);
    auto model = nn::models::resnet18({.num_classes = 10, .cifar_stem = a.name == "resnet18_cifar", .gen = &gen});
    optim::SGD sgd(model->parameters(), {.lr = 0.01, .momentum = 0.9});
    const Tensor x = randn({64, 3, 32, 32}, DType::Float32, &gen);
    std::vector<int64_t> labels(64);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int64_t(i * 7 % 10);
    const Tensor y = from_vector(labels);
    std::vector<double> times;
    double last = 0;
    for (int s = 0; s < a.warmup + a.steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        const Tensor loss = cross_entropy((*model)(x), y);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
        last = loss.item<double>();
        if (s >= a.warmup) times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    return {times[times.size() / 2], last};
}

}  // namespace

int main(int argc, char** argv) try {
    const Args a = parse_args(argc, argv);
    set_num_threads(a.threads);
    std::printf("# graft train_bench case=%s threads=%d\n", a.name.c_str(), get_num_threads());
    const auto [seconds, loss] = a.name.rfind("resnet18", 0) == 0 ? bench_resnet18(a) : bench_epoch(a);
    std::printf("%s %.6f %ld %.6f\n", a.name.c_str(), seconds, peak_rss_kib(), loss);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
