// peak_fma_bench: the measured peak FMA rate of this machine, the ceiling the
// GEMM benchmarks are compared with ("% of peak").
//
//   variant        loop body (12 independent chains: more than latency x ports)
//   zmm fp32       vfmadd231ps zmm      16 lanes x 2 flops
//   ymm fp32       vfmadd231ps ymm       8 lanes x 2 flops
//   zmm bf16 dot   vdpbf16ps zmm        16 lanes x 2 products x 2 flops (AVX512_BF16)
//
// Each thread runs the loop from registers only (no memory traffic), on 1 and 2
// threads through graft::parallel_for; GFLOP/s = total flops / wall-clock time,
// median and best of `reps` runs of about 0.2 s. The loops are inline assembly so
// that the compiler can neither spill nor fold them; a variant the CPU lacks is
// skipped.
//
//   peak_fma_bench [--reps 7] [--threads 1,2] [--clock wall|cpu]   (cpu: one thread)
// Output: one "peak" line per variant and thread count (sgemm_run.sh reads them).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/parallel.h"

namespace {

// 12 FMAs on registers 4..15 from the multiplicands in registers 0 and 1.
#define GRAFT_FMA12(op, reg)                                                                                   \
    op " %%" reg "0, %%" reg "1, %%" reg "4\n\t" op " %%" reg "0, %%" reg "1, %%" reg "5\n\t" op " %%" reg "0, %%" reg \
       "1, %%" reg "6\n\t" op " %%" reg "0, %%" reg "1, %%" reg "7\n\t" op " %%" reg "0, %%" reg "1, %%" reg         \
       "8\n\t" op " %%" reg "0, %%" reg "1, %%" reg "9\n\t" op " %%" reg "0, %%" reg "1, %%" reg "10\n\t" op " %%" reg \
       "0, %%" reg "1, %%" reg "11\n\t" op " %%" reg "0, %%" reg "1, %%" reg "12\n\t" op " %%" reg "0, %%" reg "1, %%" \
       reg "13\n\t" op " %%" reg "0, %%" reg "1, %%" reg "14\n\t" op " %%" reg "0, %%" reg "1, %%" reg "15\n\t"
#define GRAFT_FMA_CLOBBERS \
    "xmm0", "xmm1", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"

void zmm_fp32(int64_t iters) {
    __asm__ volatile("vxorps %%xmm0, %%xmm0, %%xmm0\n\tvxorps %%xmm1, %%xmm1, %%xmm1\n\t"
                     "1:\n\t" GRAFT_FMA12("vfmadd231ps", "zmm") "dec %0\n\tjnz 1b\n\t"
                     : "+r"(iters)
                     :
                     : GRAFT_FMA_CLOBBERS);
}
void ymm_fp32(int64_t iters) {
    __asm__ volatile("vxorps %%xmm0, %%xmm0, %%xmm0\n\tvxorps %%xmm1, %%xmm1, %%xmm1\n\t"
                     "1:\n\t" GRAFT_FMA12("vfmadd231ps", "ymm") "dec %0\n\tjnz 1b\n\tvzeroupper\n\t"
                     : "+r"(iters)
                     :
                     : GRAFT_FMA_CLOBBERS);
}
void zmm_bf16(int64_t iters) {
    __asm__ volatile("vxorps %%xmm0, %%xmm0, %%xmm0\n\tvxorps %%xmm1, %%xmm1, %%xmm1\n\t"
                     "1:\n\t" GRAFT_FMA12("vdpbf16ps", "zmm") "dec %0\n\tjnz 1b\n\t"
                     : "+r"(iters)
                     :
                     : GRAFT_FMA_CLOBBERS);
}
#undef GRAFT_FMA12
#undef GRAFT_FMA_CLOBBERS

struct Variant {
    const char* name;
    void (*loop)(int64_t);
    double flops_per_iter;  // 12 instructions
    bool available;
};

// Wall-clock time; with --clock cpu the calling thread's CPU time (one thread
// only: it leaves out the time other processes take on a loaded machine).
bool g_cpu_clock = false;
double now() {
    if (g_cpu_clock) {
        timespec t;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// GFLOP/s of `threads` copies of the loop, run together.
double run(const Variant& v, int threads, int64_t iters) {
    graft::set_num_threads(threads);
    const double t0 = now();
    graft::parallel_for(0, threads, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) v.loop(iters);
    });
    return v.flops_per_iter * double(iters) * threads / (now() - t0) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 7;
    std::vector<int> thread_counts{1, 2};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--clock") == 0) g_cpu_clock = std::strcmp(argv[i + 1], "cpu") == 0;
        else if (std::strcmp(argv[i], "--threads") == 0) {  // a comma-separated list
            thread_counts.clear();
            for (char* p = argv[i + 1]; *p;) {
                thread_counts.push_back(int(std::strtol(p, &p, 10)));
                if (*p == ',') ++p;
            }
        }
    }
    using graft::kernels::Isa;
    const bool avx2 = graft::kernels::detected_isa() >= Isa::Avx2, avx512 = graft::kernels::detected_isa() == Isa::Avx512;
    const Variant variants[] = {{"zmm_fp32", zmm_fp32, 12 * 16 * 2, avx512},
                                {"ymm_fp32", ymm_fp32, 12 * 8 * 2, avx2},
                                {"zmm_bf16", zmm_bf16, 12 * 16 * 4, avx512 && graft::kernels::cpu_has_avx512_bf16()}};
    for (const Variant& v : variants) {
        if (!v.available) {
            std::printf("# %s: not supported by this CPU, skipped\n", v.name);
            continue;
        }
        const int64_t iters = int64_t(2e10 / v.flops_per_iter);  // about 0.2 s at 100 GFLOP/s
        for (int threads : thread_counts) {
            run(v, threads, iters / 10);  // warm-up: clocks up, pool started
            std::vector<double> g;
            for (int r = 0; r < reps; ++r) g.push_back(run(v, threads, iters));
            std::sort(g.begin(), g.end());
            std::printf("peak variant=%s threads=%d median=%.2f best=%.2f\n", v.name, threads, g[g.size() / 2], g.back());
            std::fflush(stdout);
        }
    }
    return 0;
}
