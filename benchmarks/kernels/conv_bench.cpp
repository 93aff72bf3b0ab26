// conv_bench: Graft's conv2d, forward and forward+backward, on the shapes of
// ResNet-18 (3x3, stride 1, pad 1, C -> C) and the depthwise layers of
// MobileNetV2 (3x3, stride 1 and 2, pad 1, groups = C), batch 32, NCHW float32.
//
// Variants (the op picks one by geometry; all are the shipped kernels):
//   im2col   general path: im2col over a bounded chunk of images, then sgemm
//   depthwise direct SIMD kernels on a zero-padded, phase-split plane
// Before timing, each shape is validated at batch 1 against a direct loop
// (first 4 output channels), so a fast wrong kernel cannot report a time.
//
// Output: one line per shape and pass, "name pass median_ms best_ms
// median_cpu_ms best_cpu_ms" (wall-clock, then the process's CPU time, which a
// loaded machine inflates less at one thread); lines starting with # are
// comments. run.sh puts it beside conv_torch.py.
//
//   build-conv/benchmarks/kernels/conv_bench --threads 2 [--reps 7] [--batch 32] [--only resnet|dw]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "benchmarks/kernels/conv_bench_common.h"
#include "graft.h"
#include "kernels/cpu/isa.h"

using namespace graft;

namespace {

using conv_bench::Shape2;
using conv_bench::time_it;

// y[0, o] for o < 4 by the definition, compared with conv2d's.
bool validate(const Shape2& s) {
    const Conv2dParams p = Conv2dParams::make(s.stride, 1, 1, s.groups);
    const Tensor x = randn({1, s.c, s.hw, s.hw}), w = randn({s.c, s.c / s.groups, 3, 3});
    const Tensor y = conv2d(x, w, Tensor(), p);
    const auto xv = x.to_vector<float>(), wv = w.to_vector<float>(), yv = y.to_vector<float>();
    const int64_t ho = y.size(2), cg = s.c / s.groups;
    double worst = 0;
    for (int64_t o = 0; o < 4; ++o)
        for (int64_t i = 0; i < ho; ++i)
            for (int64_t j = 0; j < ho; ++j) {
                double acc = 0;
                for (int64_t c = 0; c < cg; ++c)
                    for (int64_t a = 0; a < 3; ++a)
                        for (int64_t b = 0; b < 3; ++b) {
                            const int64_t h = i * s.stride - 1 + a, ww = j * s.stride - 1 + b;
                            if (h < 0 || h >= s.hw || ww < 0 || ww >= s.hw) continue;
                            const int64_t ci = o / (s.c / s.groups) * cg + c;
                            acc += double(wv[size_t(((o * cg + c) * 3 + a) * 3 + b)]) *
                                   xv[size_t((ci * s.hw + h) * s.hw + ww)];
                        }
                worst = std::max(worst, std::fabs(acc - yv[size_t((o * ho + i) * ho + j)]));
            }
    if (worst > 1e-3) std::printf("# %s: VALIDATION FAILED, max error %g\n", s.name.c_str(), worst);
    return worst <= 1e-3;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = get_num_threads(), reps = 7;
    int64_t batch = 32;
    std::string only;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    set_num_threads(threads);
    std::printf("# graft conv2d, batch %lld, %d thread(s), isa %s\n", (long long)batch, threads,
                kernels::isa_name(kernels::active_isa()));
    for (const Shape2& s : conv_bench::shapes()) {
        if (!only.empty() && s.name.rfind(only == "dw" ? "dw" : only, 0) != 0) continue;
        if (!validate(s)) return 1;
        const Conv2dParams p = Conv2dParams::make(s.stride, 1, 1, s.groups);
        const Tensor x = randn({batch, s.c, s.hw, s.hw}), w = randn({s.c, s.c / s.groups, 3, 3});
        time_it(s.name, "fwd", reps, [&] {
            NoGradGuard no_grad;
            (void)conv2d(x, w, Tensor(), p);
        });
        const Tensor xg = x.detach().requires_grad_(), wg = w.detach().requires_grad_();
        const Tensor g = randn(conv2d(x, w, Tensor(), p).shape());
        time_it(s.name, "fwdbwd", reps, [&] {
            xg.set_grad(Tensor()), wg.set_grad(Tensor());
            conv2d(xg, wg, Tensor(), p).backward(g);
        });
    }
    return 0;
}
