// LibTorch's side of benchmarks/overhead: the same measurements as
// overhead_graft.cpp (see its header for the protocol), through the PyTorch C++
// API, so that the per-op cost is compared without Python in the way.
//
// Build: cmake -DGRAFT_BENCH_LIBTORCH=ON (needs Debian's libtorch-dev).
// Usage: overhead_libtorch --threads N   (prints "metric median best" lines)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

struct Timing {
    double median, best;  // ns per call
};

// Over `batches` batches of `calls` calls: the median and the best per-call mean.
template <typename Fn>
Timing ns_per_call(Fn&& fn, int calls, int warmup_batches, int batches) {
    std::vector<double> per_call;
    for (int b = 0; b < warmup_batches + batches; ++b) {
        const auto start = Clock::now();
        for (int i = 0; i < calls; ++i) fn();
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        if (b >= warmup_batches) per_call.push_back(ns / calls);
    }
    std::sort(per_call.begin(), per_call.end());
    return {per_call[per_call.size() / 2], per_call.front()};
}

void print_ns(const char* name, Timing t) { std::printf("%s %.0f %.0f\n", name, t.median, t.best); }

// A bandwidth line: `bytes` read + written per call; bytes per ns = GB/s.
void print_gbs(const char* name, double bytes, Timing t) {
    std::printf("%s %.2f %.2f\n", name, bytes / t.median, bytes / t.best);
}

Timing tiny_add() {
    const torch::Tensor a = torch::ones({1}), b = torch::ones({1});
    return ns_per_call([&] { torch::Tensor c = a + b; }, 1000, 20, 101);
}

Timing tiny_forward_backward() {
    torch::Tensor w = torch::full({4}, 0.5).requires_grad_();
    torch::Tensor b = torch::full({4}, 0.25).requires_grad_();
    const torch::Tensor x = torch::full({4}, 2.0);
    return ns_per_call(
        [&] {
            w.mutable_grad().reset();
            b.mutable_grad().reset();
            torch::Tensor y = (w * x + b).sum();
            y.backward();
        },
        100, 5, 101);
}

void bandwidth(int64_t n) {
    // The sawtooth over [-3, 3) that the other two programs use.
    const torch::Tensor a = torch::remainder(torch::arange(n), 1000).to(torch::kFloat) * 0.006f - 3.0f;
    const torch::Tensor b = torch::full({n}, 1.5);
    const double f = double(sizeof(float)) * double(n);
    print_gbs("add_16M_gbs", 3 * f, ns_per_call([&] { torch::Tensor c = a + b; }, 1, 3, 21));
    print_gbs("mul_16M_gbs", 3 * f, ns_per_call([&] { torch::Tensor c = a * b; }, 1, 3, 21));
    print_gbs("gelu_16M_gbs", 2 * f, ns_per_call([&] { torch::Tensor c = torch::gelu(a); }, 1, 3, 21));
    torch::Tensor d = a.clone(), e = a.clone();  // e keeps gelu's inputs in [-3, 3)
    print_gbs("add_inplace_16M_gbs", 3 * f, ns_per_call([&] { d.add_(b); }, 1, 3, 21));
    print_gbs("mul_inplace_16M_gbs", 3 * f, ns_per_call([&] { d.mul_(b); }, 1, 3, 21));
    print_gbs("gelu_inplace_16M_gbs", 2 * f, ns_per_call([&] { at::gelu_(e); }, 1, 3, 21));
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    for (int k = 1; k + 1 < argc; ++k)
        if (!std::strcmp(argv[k], "--threads")) threads = std::atoi(argv[k + 1]);
    torch::set_num_threads(threads);
    std::printf("# libtorch %s threads %d\n", TORCH_VERSION, torch::get_num_threads());
    print_ns("add_1elem_ns", tiny_add());
    print_ns("fwd_bwd_4elem_ns", tiny_forward_backward());
    bandwidth(int64_t(16) << 20);
    return 0;
}
