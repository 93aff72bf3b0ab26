// epilogue_bench: what fusing bias (+ ReLU) into the GEMM saves.
//
//   build/benchmarks/kernels/epilogue_bench [--reps 15] [--threads 1]
//
// For each shape, C [M, N] = A [M, K] · B [K, N] then a bias and a ReLU, two ways:
//   fused    one sgemm with GemmEpilogue{bias, relu}: applied to each tile of C
//            right after its last k slice, while it is in L1;
//   unfused  sgemm, then Graft's own SIMD tensor ops over C: add_(bias) and relu_
//            (two more passes over C, which is what a layer did before fusion).
// "bias" columns run the bias alone (Linear without activation; conv with bias).
// Times are the calling process's CPU time (one thread by default, so other
// processes on a shared machine inflate them little), median of the repeats;
// the ratio fused/unfused is the number to read.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/ops/activation.h"
#include "core/ops/binary.h"
#include "core/ops/creation.h"
#include "core/ops/random.h"
#include "kernels/cpu/gemm.h"
#include "kernels/parallel.h"

using namespace graft;
using kernels::cpu::GemmEpilogue;

namespace {

double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

template <typename F>
double median_ms(int reps, F&& f) {
    f();  // warm-up: scratch buffers, pages of C
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
        const double t0 = cpu_seconds();
        f();
        ms.push_back(1e3 * (cpu_seconds() - t0));
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

struct Shape3 {
    const char* what;
    int64_t m, k, n;
    bool bias_per_row;  // conv: bias per output channel = per row of C
};

}  // namespace

int main(int argc, char** argv) {
    int reps = 15, threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    }
    set_num_threads(threads);
    const std::vector<Shape3> shapes = {
        {"Linear 784->512, batch 128 (MLP)", 128, 784, 512, false},
        {"Linear 512->256, batch 128 (MLP)", 128, 512, 256, false},
        {"Linear 9216->128, batch 64 (small CNN fc)", 64, 9216, 128, false},
        {"Linear 384->1536, 2048 tokens (BERT FFN)", 2048, 384, 1536, false},
        {"conv 3x3 64->64 on 56x56, one image (im2col)", 64, 576, 3136, true},
        {"conv 1x1 32->64 on 112x112, one image", 64, 32, 12544, true},
    };
    std::printf("| shape (M x K x N) | bias: fused | unfused | ratio | bias+ReLU: fused | unfused | ratio |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const Shape3& s : shapes) {
        const Tensor a = randn({s.m, s.k}), b = randn({s.k, s.n});
        const int64_t nb = s.bias_per_row ? s.m : s.n;
        const Tensor bias = randn({nb});
        Tensor c = Tensor::empty({s.m, s.n});
        const Tensor bias_view = s.bias_per_row ? bias.view({s.m, 1}) : bias;  // broadcast as the layer does
        const float* pa = a.data<float>();
        const float* pb = b.data<float>();
        float* pc = c.data<float>();
        double ms[4];
        for (int relu = 0; relu < 2; ++relu) {
            GemmEpilogue<float> e;
            (s.bias_per_row ? e.row_bias : e.col_bias) = bias.data<float>();
            e.relu = relu;
            ms[2 * relu] = median_ms(reps, [&] {
                kernels::cpu::sgemm(false, false, s.m, s.n, s.k, 1.f, pa, s.k, pb, s.n, 0.f, pc, s.n, e);
            });
            ms[2 * relu + 1] = median_ms(reps, [&] {
                kernels::cpu::sgemm(false, false, s.m, s.n, s.k, 1.f, pa, s.k, pb, s.n, 0.f, pc, s.n);
                c.add_(bias_view);
                if (relu) relu_(c);
            });
        }
        std::printf("| %s: %lldx%lldx%lld | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f |\n", s.what, (long long)s.m,
                    (long long)s.k, (long long)s.n, ms[0], ms[1], ms[0] / ms[1], ms[2], ms[3], ms[2] / ms[3]);
    }
    std::printf("\nms of CPU time, median of %d; %d thread(s)\n", reps, threads);
    return 0;
}
