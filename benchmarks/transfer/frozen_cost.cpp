// What a frozen trunk saves: ResNet-18 train steps (10 classes, SGD momentum
// 0.9, fixed random batch) fully trainable against conv1/bn1/layer1..layer3
// frozen with transfer::freeze, and a no-grad forward as the floor. One mode per
// process, so the peak RSS (getrusage ru_maxrss) belongs to that mode alone;
// run.sh runs the modes interleaved and prints the table with ratios.
//
//   full     every parameter trains (the baseline)
//   frozen   freeze(conv1, bn1, layer[1-3]*): layer4 and fc train; the trunk's
//            BatchNorms run on running statistics (pinned eval); the optimizer
//            gets trainable_parameters() only
//   forward  the full model's forward under NoGradGuard, in eval mode: what a
//            step cannot go below
//
// Run:    frozen_cost --mode full|frozen|forward [--batch 32] [--size 128]
//                     [--steps 10] [--warmup 2] [--threads N]
// Output: comment lines starting with '#', then one line
//   <mode> <median_step_seconds> <min_step_seconds> <peak_rss_kib> <rss_after_build_kib> <trainable_params>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "benchmarks/bench_util.h"
#include "graft.h"
#include "nn/models/resnet.h"
#include "nn/optim/sgd.h"
#include "transfer/freeze.h"

using namespace graft;

namespace {

using graft::bench::peak_rss_kib;
using graft::bench::seconds_since;

struct Args {
    std::string mode;
    int64_t batch = 32;
    int64_t size = 128;
    int steps = 10;
    int warmup = 2;
    int threads = 0;  // 0: the pool's default (GRAFT_NUM_THREADS or the hardware)
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s --mode full|frozen|forward [--batch N] [--size PIXELS] [--steps N] [--warmup N] "
                 "[--threads N]\n",
                 argv0);
    std::exit(2);
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) usage(argv[0]);
        const char* v = argv[++i];
        if (k == "--mode") a.mode = v;
        else if (k == "--batch") a.batch = std::atoll(v);
        else if (k == "--size") a.size = std::atoll(v);
        else if (k == "--steps") a.steps = std::atoi(v);
        else if (k == "--warmup") a.warmup = std::atoi(v);
        else if (k == "--threads") a.threads = std::atoi(v);
        else usage(argv[0]);
    }
    if ((a.mode != "full" && a.mode != "frozen" && a.mode != "forward") || a.batch < 1 || a.size < 32 ||
        a.steps < 1 || a.warmup < 0 || a.threads < 0)
        usage(argv[0]);
    return a;
}

long current_rss_kib() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * 4;  // 4 KiB pages
}

}  // namespace

int main(int argc, char** argv) try {
    const Args a = parse_args(argc, argv);
    if (a.threads > 0) set_num_threads(a.threads);
    Generator gen(42);
    auto model = nn::models::resnet18({.num_classes = 10, .gen = &gen});
    if (a.mode == "frozen") {
        transfer::freeze(*model, "conv1");
        transfer::freeze(*model, "bn1");
        transfer::freeze(*model, "layer[1-3]*");
    }
    const int64_t trainable = a.mode == "forward" ? 0 : model->num_parameters(/*trainable_only=*/true);
    optim::SGD sgd(transfer::trainable_parameters(*model), {.lr = 0.01, .momentum = 0.9});
    const Tensor x = randn({a.batch, 3, a.size, a.size}, DType::Float32, &gen);
    std::vector<int64_t> labels(size_t(a.batch));
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int64_t(i * 7 % 10);
    const Tensor y = from_vector(labels);
    const long rss_built = current_rss_kib();
    std::printf("# frozen_cost mode=%s batch=%lld size=%lld threads=%d steps=%d warmup=%d\n", a.mode.c_str(),
                (long long)a.batch, (long long)a.size, get_num_threads(), a.steps, a.warmup);

    if (a.mode == "forward") model->eval();
    else model->train();
    std::vector<double> times;
    for (int s = 0; s < a.warmup + a.steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        if (a.mode == "forward") {
            NoGradGuard no_grad;
            (void)(*model)(x);
        } else {
            const Tensor loss = cross_entropy((*model)(x), y);
            sgd.zero_grad();
            loss.backward();
            sgd.step();
        }
        if (s >= a.warmup) times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    std::printf("%s %.6f %.6f %ld %ld %lld\n", a.mode.c_str(), times[times.size() / 2], times.front(),
                peak_rss_kib(), rss_built, (long long)trainable);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
}
