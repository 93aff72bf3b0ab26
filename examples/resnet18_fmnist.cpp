// ResNet-18 (torchvision's layout) trained from scratch on Fashion-MNIST: grey
// input (in_channels 1), the CIFAR stem (3x3 conv, stride 1, no max pool) and
// 10 classes, on images zero-padded from 28x28 to 32x32 as CIFAR-sized inputs.
// SGD with Nesterov momentum 0.9, weight decay 5e-4 and a cosine learning rate,
// batch 64.
//
//   [N, 1, 32, 32] -> conv1 3x3 64 -> layer1 (64, 32x32) -> layer2 (128, 16x16)
//                  -> layer3 (256, 8x8) -> layer4 (512, 4x4) -> avgpool -> fc 10
//
// Run:  build/examples/resnet18_fmnist [--epochs 1] [--threads N] [--data DIR]
//                                      [--limit N] [--test-limit N] [--batch 64] [--lr 0.05]
// One epoch over all 60,000 images is about 100 TFLOP (1.7 GFLOP per image for
// forward and backward): tens of minutes on a few cores. --limit trains on the
// first N images and --test-limit evaluates on the first N test images.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "graft.h"
#include "io/datasets/fashion_mnist.h"
#include "nn/models/resnet.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"

using namespace graft;

namespace {

struct Options {
    int epochs = 1;
    int threads = 0;  // 0: keep GRAFT_NUM_THREADS or the hardware's count
    std::string data = io::kFashionMnistDir;
    int64_t limit = 0;       // 0: all 60,000 training images
    int64_t test_limit = 0;  // 0: all 10,000 test images
    int64_t batch = 64;
    double lr = 0.05;
    uint64_t seed = 42;
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--epochs N] [--threads N] [--data DIR] [--limit N] [--test-limit N] [--batch N] "
                 "[--lr X] [--seed N]\n",
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

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
    return eq(argmax(logits, 1), labels).to(DType::Int64).sum().item<int64_t>();
}

double evaluate(nn::Module& model, const Tensor& x, const Tensor& y) {
    NoGradGuard no_grad;
    model.eval();
    int64_t correct = 0;
    for (int64_t i = 0; i < x.size(0); i += 250) {
        const int64_t end = std::min(i + 250, x.size(0));
        correct += count_correct(model(x.slice(0, i, end)), y.slice(0, i, end));
    }
    model.train();
    return double(correct) / double(x.size(0));
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

    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        const Tensor perm = randperm(n, &gen);
        double loss_sum = 0;
        int64_t correct = 0, seen = 0;
        for (int64_t i = 0, step = 1; i < n; i += opt.batch, ++step) {
            const Tensor idx = perm.slice(0, i, std::min(i + opt.batch, n));
            const Tensor xb = index_select(x_train, 0, idx), yb = index_select(y_train, 0, idx);
            const Tensor logits = (*model)(xb);  // [B, 10]
            const Tensor loss = cross_entropy(logits, yb);
            sgd.zero_grad();
            loss.backward();
            sgd.step();
            schedule.step();
            loss_sum += loss.item<double>() * double(idx.size(0));
            correct += count_correct(logits, yb);
            seen += idx.size(0);
            if (step % 10 == 0 || i + opt.batch >= n) {
                const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                std::printf("\repoch %d  step %lld/%lld  loss %.4f  train acc %.2f%%  %.2f s/step", epoch,
                            (long long)step, (long long)steps_per_epoch, loss_sum / double(seen),
                            100.0 * double(correct) / double(seen), s / double(step));
                std::fflush(stdout);
            }
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double test_acc = evaluate(*model, x_test, y_test);
        std::printf("\nepoch %d  loss %.4f  train acc %.2f%%  test acc %.2f%%  time %.1f s\n", epoch,
                    loss_sum / double(n), 100.0 * double(correct) / double(n), 100 * test_acc, seconds);
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
