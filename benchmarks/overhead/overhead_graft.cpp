// Graft's side of benchmarks/overhead: what a tiny op costs beyond its arithmetic
// (dispatch, allocation, autograd bookkeeping), and how close large elementwise
// ops come to memory bandwidth. overhead_libtorch.cpp and overhead_pytorch.py
// measure the same things the same way; run.sh runs all three and tabulates.
//
// Protocol (identical in the three programs):
//   add_1elem_ns     c = a + b on 1-element float32 tensors, no grad. Batches of
//                    1000 calls, 20 warm-up batches, median over 101 batches.
//   fwd_bwd_4elem_ns y = (w * x + b).sum(); y.backward() with w, b of 4 elements
//                    requiring grad; grads reset to none before each call.
//                    Batches of 100 calls, 5 warm-up, median over 101 batches.
//   {add,mul,gelu}_16M_gbs  out-of-place c = a + b, a * b, gelu(a) (erf form) on
//                    16M float32 (64 MiB each); bytes read + written / median
//                    time of 21 calls after 3 warm-up calls. The output is a
//                    fresh tensor each call, as user code gets it, so the time
//                    includes the operating system's first touch of new pages.
//   {add,mul,gelu}_inplace_16M_gbs  the same bytes in place (a.add_(b),
//                    a.mul_(b), gelu_(a)) on a copy of a: the kernel alone.
//
// Each metric prints its median and its best (the minimum time; on a shared
// machine the best shows what the code can do, the median what a user sees).
//
// Usage: overhead_graft --threads N   (prints "metric median best" lines)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "graft.h"

using namespace graft;
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
    const Tensor a = ones({1}), b = ones({1});
    return ns_per_call([&] { Tensor c = a + b; }, 1000, 20, 101);
}

Timing tiny_forward_backward() {
    const Tensor w = full({4}, 0.5).requires_grad_();
    const Tensor b = full({4}, 0.25).requires_grad_();
    const Tensor x = full({4}, 2.0);
    return ns_per_call(
        [&] {
            w.set_grad(Tensor());
            b.set_grad(Tensor());
            Tensor y = (w * x + b).sum();
            y.backward();
        },
        100, 5, 101);
}

// The same values in all three programs: a sawtooth over [-3, 3).
Tensor sawtooth(int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float(i % 1000) * 0.006f - 3.0f;
    return from_vector(v);
}

// A wrong result would make the speed meaningless: spot-check each op once.
void check_close(const char* what, float got, double want) {
    if (std::fabs(got - want) > 1e-5 * (1 + std::fabs(want))) {
        std::fprintf(stderr, "overhead_graft: %s gave %.7g, expected %.7g\n", what, got, want);
        std::exit(1);
    }
}

void bandwidth(int64_t n) {
    const Tensor a = sawtooth(n), b = full({n}, 1.5);
    const double f = double(sizeof(float)) * double(n);
    const int64_t i = 123;  // a[123] = 123 * 0.006 - 3
    const double ai = double(float(i % 1000) * 0.006f - 3.0f);
    check_close("add", (a + b).to_vector<float>()[i], ai + 1.5);
    check_close("mul", (a * b).to_vector<float>()[i], ai * 1.5);
    check_close("gelu", gelu(a).to_vector<float>()[i], 0.5 * ai * (1 + std::erf(ai / std::sqrt(2.0))));
    print_gbs("add_16M_gbs", 3 * f, ns_per_call([&] { Tensor c = a + b; }, 1, 3, 21));
    print_gbs("mul_16M_gbs", 3 * f, ns_per_call([&] { Tensor c = a * b; }, 1, 3, 21));
    print_gbs("gelu_16M_gbs", 2 * f, ns_per_call([&] { Tensor c = gelu(a); }, 1, 3, 21));
    const Tensor d = a.clone(), e = a.clone();  // e keeps gelu's inputs in [-3, 3)
    print_gbs("add_inplace_16M_gbs", 3 * f, ns_per_call([&] { d.add_(b); }, 1, 3, 21));
    print_gbs("mul_inplace_16M_gbs", 3 * f, ns_per_call([&] { d.mul_(b); }, 1, 3, 21));
    print_gbs("gelu_inplace_16M_gbs", 2 * f, ns_per_call([&] { gelu_(e); }, 1, 3, 21));
}

}  // namespace

int main(int argc, char** argv) try {
    int threads = 1;
    for (int k = 1; k + 1 < argc; ++k)
        if (!std::strcmp(argv[k], "--threads")) threads = std::atoi(argv[k + 1]);
    set_num_threads(threads);
    std::printf("# graft threads %d\n", get_num_threads());
    print_ns("add_1elem_ns", tiny_add());
    print_ns("fwd_bwd_4elem_ns", tiny_forward_backward());
    bandwidth(int64_t(16) << 20);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "overhead_graft: %s\n", e.what());
    return 1;
}
