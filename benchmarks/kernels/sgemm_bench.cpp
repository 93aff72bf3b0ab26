// sgemm_bench: C[M, N] = A[M, K] · B[K, N] (float32, row-major, no transposes) in
// Graft and in the reference libraries, one library per process (their thread
// pools spin after a call and would steal the cores from the next one).
//
//   library   call                                   threads
//   graft     kernels::cpu::sgemm (shipped, linked)  graft::set_num_threads
//   openblas  cblas_sgemm, dlopen'd pthreads build   openblas_set_num_threads
//   blis      cblas_sgemm, dlopen'd pthreads build   bli_thread_set_num_threads
//   onednn    dnnl_sgemm (row-major), dlopen'd       omp_set_num_threads (its libgomp)
//   eigen     Map<RowMajor> product, AVX-512 build   single-threaded (no OpenMP here)
//
// The references are loaded at run time so this harness builds with Graft alone
// (benchmarks/kernels/CMakeLists.txt builds every *_bench.cpp); a library that
// is not installed is reported and skipped. Each library's C is first compared
// with Graft's (max |diff| <= 1e-4 · max |C|); a mismatch is reported, not timed.
// Timing: one warm-up call, then `reps` calls, each after writing a 64 MiB buffer
// (twice this CPU's L3) when the operands fit in L3 (cold caches, as a layer sees
// them); median and best GFLOP/s from 2·M·N·K flops and wall-clock time.
//
//   sgemm_bench --lib openblas --threads 2 [--reps 9] [--shapes square|dl|all|MxKxN,...]
//   sgemm_bench --sweep [--threads 1]      Graft's MC x KC choices on this machine
//   --clock cpu                            time on the thread's CPU clock (1 thread only)
// Output: "# ..." lines describing the library, then one "result" line per shape.
// benchmarks/kernels/sgemm_run.sh runs every library and prints the tables.
#include <dlfcn.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm/gemm_kernel.h"
#include "kernels/cpu/isa.h"
#include "kernels/parallel.h"

#if __has_include(<eigen3/Eigen/Core>)
// Eigen picks its SIMD level from the compiler's target macros; this file is built
// for baseline x86-64, so the Eigen code below is compiled for AVX-512 on its own
// (run only where the CPU has it) and the macros Eigen reads are set by hand.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define __AVX__ 1
#define __AVX2__ 1
#define __FMA__ 1
#define __AVX512F__ 1
#define __AVX512DQ__ 1
#define __AVX512BW__ 1
#define __AVX512VL__ 1
#define __SSE3__ 1
#define __SSSE3__ 1
#define __SSE4_1__ 1
#define __SSE4_2__ 1
#include <eigen3/Eigen/Core>
namespace {
void eigen_sgemm(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
    using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<const Matrix> A(a, m, k), B(b, k, n);
    Eigen::Map<Matrix> C(c, m, n);
    C.noalias() = A * B;
}
std::string eigen_describe() {
    return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
           std::to_string(EIGEN_MINOR_VERSION) + ", SIMD: " + Eigen::SimdInstructionSetsInUse();
}
}  // namespace
#pragma GCC diagnostic pop
#pragma GCC pop_options
#define GRAFT_BENCH_HAVE_EIGEN 1
#endif

namespace {

using graft::kernels::cpu::GemmConfig;

struct Shape {
    std::string name;
    int64_t m, k, n;
};

// One library: describe() once, set_threads(n), sgemm(m, n, k, a, b, c) computing C = A·B.
struct Library {
    std::string describe;
    std::function<void(int)> set_threads;
    std::function<void(int64_t, int64_t, int64_t, const float*, const float*, float*)> sgemm;
};

void* open_library(const char* path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
template <typename F>
F symbol(void* lib, const char* name) {
    return reinterpret_cast<F>(dlsym(lib, name));
}
std::string env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v ? v : fallback;
}

using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);
constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111;

bool load_cblas(void* lib, Library& out) {
    const auto gemm = symbol<CblasSgemm>(lib, "cblas_sgemm");
    if (!gemm) return false;
    out.sgemm = [gemm](int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
        gemm(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, int(m), int(n), int(k), 1.0f, a, int(k), b, int(n), 0.0f, c,
             int(n));
    };
    return true;
}

bool load_library(const std::string& name, Library& out) {
    if (name == "graft") {
        out.describe = std::string("Graft, blocking row ") +
                       graft::kernels::cpu::gemm_config_f32(graft::kernels::active_isa()).name;
        out.set_threads = [](int n) { graft::set_num_threads(n); };
        out.sgemm = [](int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
            graft::kernels::cpu::sgemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        };
        return true;
    }
    if (name == "openblas") {
        void* lib = open_library("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0");
        if (!lib || !load_cblas(lib, out)) return false;
        const auto core = symbol<const char* (*)()>(lib, "openblas_get_corename");
        const auto config = symbol<const char* (*)()>(lib, "openblas_get_config");
        out.describe = std::string(config ? config() : "OpenBLAS") + ", kernel " + (core ? core() : "?") +
                       ", OPENBLAS_CORETYPE=" + env_or("OPENBLAS_CORETYPE", "(unset)") +
                       ", OPENBLAS_L2_SIZE=" + env_or("OPENBLAS_L2_SIZE", "(unset)");
        const auto threads = symbol<void (*)(int)>(lib, "openblas_set_num_threads");
        out.set_threads = [threads](int n) { threads(n); };
        return threads != nullptr;
    }
    if (name == "blis") {
        void* lib = open_library("/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4");
        if (!lib || !load_cblas(lib, out)) return false;
        const auto version = symbol<const char* (*)()>(lib, "bli_info_get_version_str");
        const auto arch_id = symbol<int (*)()>(lib, "bli_arch_query_id");
        const auto arch = symbol<const char* (*)(int)>(lib, "bli_arch_string");
        out.describe = std::string("BLIS ") + (version ? version() : "?") + ", config " +
                       (arch && arch_id ? arch(arch_id()) : "?") + " (pthreads)";
        const auto threads = symbol<void (*)(int64_t)>(lib, "bli_thread_set_num_threads");
        out.set_threads = [threads](int n) { threads(n); };
        return threads != nullptr;
    }
    if (name == "onednn") {
        void* lib = open_library("libdnnl.so.2");
        if (!lib) return false;
        using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                  int64_t, float, float*, int64_t);
        struct Version {
            int major, minor, patch;
            const char* hash;
            unsigned cpu_runtime, gpu_runtime;
        };
        const auto gemm = symbol<DnnlSgemm>(lib, "dnnl_sgemm");
        const auto version = symbol<const Version* (*)()>(lib, "dnnl_version");
        const auto isa = symbol<int (*)()>(lib, "dnnl_get_effective_cpu_isa");
        const auto threads = symbol<void (*)(int)>(lib, "omp_set_num_threads");  // from its libgomp
        if (!gemm || !version || !threads) return false;
        const Version* v = version();
        char text[160];
        std::snprintf(text, sizeof text, "oneDNN %d.%d.%d, effective ISA 0x%x (0xe7 avx512_core_bf16), OpenMP",
                      v->major, v->minor, v->patch, isa ? unsigned(isa()) : 0u);
        out.describe = text;
        out.set_threads = [threads](int n) { threads(n); };
        out.sgemm = [gemm](int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
            gemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        };
        return true;
    }
#if GRAFT_BENCH_HAVE_EIGEN
    if (name == "eigen" && graft::kernels::detected_isa() == graft::kernels::Isa::Avx512) {
        out.describe = eigen_describe() + " (single-threaded: built without OpenMP)";
        out.set_threads = [](int) {};
        out.sgemm = eigen_sgemm;
        return true;
    }
#endif
    return false;
}

// ---- timing ---------------------------------------------------------------------------

// Writes a buffer twice the L3 size (32 MiB here) so that the operands start cold.
void flush_caches() {
    static std::vector<char> junk(size_t(64) << 20);
    static char value = 0;
    std::memset(junk.data(), ++value, junk.size());
}

// Wall-clock time; with --clock cpu, the calling thread's CPU time instead (only
// meaningful on one thread: it ignores the time other processes take from us on a
// loaded machine, so block-size choices can be compared there).
bool g_cpu_clock = false;
double seconds_now() {
    if (g_cpu_clock) {
        timespec t;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
    double median_gflops, best_gflops;
};

Timing time_calls(const std::function<void()>& call, double flops, int reps, bool flush) {
    call();  // warm-up: page faults, thread start, packing buffers
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) {
        if (flush) flush_caches();
        const double t0 = seconds_now();
        call();
        times.push_back(seconds_now() - t0);
    }
    std::sort(times.begin(), times.end());
    return {flops / times[times.size() / 2] / 1e9, flops / times.front() / 1e9};
}

std::vector<float> random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
    std::vector<float> v(size_t(rows * cols));
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (float& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = float(2.0 * double(s >> 11) / double(1ull << 53) - 1.0);
    }
    return v;
}

// max |got - want| / max |want|
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        diff = std::max(diff, std::abs(double(got[i]) - double(want[i])));
        scale = std::max(scale, std::abs(double(want[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

std::vector<Shape> parse_shapes(const std::string& spec) {
    std::vector<Shape> out;
    if (spec == "square" || spec == "all")
        for (int64_t s : {64, 128, 256, 512, 768, 1024, 1536, 2048, 3072, 4096})
            out.push_back({"square", s, s, s});
    if (spec == "dl" || spec == "all")
        for (const Shape& s : {Shape{"dl", 64, 784, 256}, Shape{"dl", 256, 4608, 512}, Shape{"dl", 12544, 576, 64},
                               Shape{"dl", 2048, 384, 1536}})
            out.push_back(s);
    if (out.empty()) {  // MxKxN,MxKxN,...
        size_t pos = 0;
        while (pos < spec.size()) {
            const size_t end = std::min(spec.find(',', pos), spec.size());
            Shape s{"custom", 0, 0, 0};
            char kind[16] = "";  // MxKxN or MxKxN:kind
            if (std::sscanf(spec.substr(pos, end - pos).c_str(), "%ldx%ldx%ld:%15s", &s.m, &s.k, &s.n, kind) >= 3) {
                if (kind[0]) s.name = kind;
                out.push_back(s);
            }
            pos = end + 1;
        }
    }
    return out;
}

int reps_for(const Shape& s, int reps) {  // fewer repeats where one call takes seconds
    const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    return flops > 4e10 ? std::max(3, reps / 3) : flops > 1e10 ? std::max(3, reps / 2) : reps;
}

bool fits_l3(const Shape& s) { return 4.0 * double(s.m * s.k + s.k * s.n + s.m * s.n) < 32.0 * (1 << 20); }

}  // namespace

namespace {

struct Options {
    std::string lib = "graft", shapes = "all";
    int threads = 1, reps = 9;
    bool sweep = false, list = false;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const char* next = i + 1 < argc ? argv[i + 1] : "";
        if (arg == "--lib") o.lib = next, ++i;
        else if (arg == "--shapes") o.shapes = next, ++i;
        else if (arg == "--threads") o.threads = std::atoi(next), ++i;
        else if (arg == "--reps") o.reps = std::atoi(next), ++i;
        else if (arg == "--sweep") o.sweep = true;
        else if (arg == "--list") o.list = true;
        else if (arg == "--clock") g_cpu_clock = std::string(next) == "cpu", ++i;
        else {
            std::fprintf(stderr, "usage: sgemm_bench [--lib graft|openblas|blis|onednn|eigen] [--threads N] "
                                 "[--reps N] [--shapes square|dl|all|MxKxN,...] [--sweep] [--clock wall|cpu] [--list]\n");
            std::exit(2);
        }
    }
    return o;
}

// Graft's blocking row with other MC x KC, through the same driver (gemm_run).
void sweep(const Options& o) {
    graft::set_num_threads(o.threads);
    const GemmConfig<float, float> base = graft::kernels::cpu::gemm_config_f32(graft::kernels::active_isa());
    std::printf("# sweep of %s, %d thread(s): GFLOP/s median (best)\n", base.name, o.threads);
    for (const Shape& s : parse_shapes(o.shapes == "all" ? "1024x1024x1024,2048x2048x2048,256x4608x512" : o.shapes)) {
        const auto a = random_matrix(s.m, s.k, 1), b = random_matrix(s.k, s.n, 2);
        std::vector<float> c(size_t(s.m * s.n));
        for (int64_t kc : {192, 256, 320, 384, 512})
            for (int64_t mc : {112, 168, 224, 336}) {
                GemmConfig<float, float> cfg = base;
                cfg.mc = mc / cfg.mr * cfg.mr;
                cfg.kc = kc;
                const auto run = [&] {
                    graft::kernels::cpu::gemm_run<float, float>(
                        cfg, {false, false, s.m, s.n, s.k, 1.0f, a.data(), s.k, 0, b.data(), s.n, 0, 0.0f, c.data(),
                              s.n, 0, 1});
                };
                const Timing t = time_calls(run, 2.0 * double(s.m * s.n * s.k), reps_for(s, o.reps), fits_l3(s));
                std::printf("sweep m=%ld k=%ld n=%ld mc=%ld kc=%ld %.1f (%.1f)\n", s.m, s.k, s.n, cfg.mc, kc,
                            t.median_gflops, t.best_gflops);
                std::fflush(stdout);
            }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (o.list) {  // the shapes of --shapes, one MxKxN per line (sgemm_run.sh interleaves libraries per shape)
        for (const Shape& s : parse_shapes(o.shapes)) std::printf("%ldx%ldx%ld %s\n", s.m, s.k, s.n, s.name.c_str());
        return 0;
    }
    if (o.sweep) {
        sweep(o);
        return 0;
    }
    Library lib, graft_lib;
    if (!load_library(o.lib, lib)) {
        std::printf("# %s: not available on this machine, skipped\n", o.lib.c_str());
        return 0;
    }
    load_library("graft", graft_lib);
    lib.set_threads(o.threads);
    graft::set_num_threads(o.threads);
    std::printf("# %s: %s\n", o.lib.c_str(), lib.describe.c_str());
    for (const Shape& s : parse_shapes(o.shapes)) {
        const auto a = random_matrix(s.m, s.k, 1), b = random_matrix(s.k, s.n, 2);
        std::vector<float> c(size_t(s.m * s.n)), want(c.size());
        graft_lib.sgemm(s.m, s.n, s.k, a.data(), b.data(), want.data());
        lib.sgemm(s.m, s.n, s.k, a.data(), b.data(), c.data());
        const double err = relative_error(c, want);
        std::printf("result lib=%s threads=%d kind=%s m=%ld k=%ld n=%ld ", o.lib.c_str(), o.threads, s.name.c_str(), s.m,
                    s.k, s.n);
        if (!(err <= 1e-4)) {
            std::printf("invalid relerr=%.3g\n", err);
            continue;
        }
        const Timing t = time_calls([&] { lib.sgemm(s.m, s.n, s.k, a.data(), b.data(), c.data()); },
                                    2.0 * double(s.m) * double(s.n) * double(s.k), reps_for(s, o.reps), fits_l3(s));
        std::printf("median=%.2f best=%.2f relerr=%.2g\n", t.median_gflops, t.best_gflops, err);
        std::fflush(stdout);
    }
    return 0;
}
