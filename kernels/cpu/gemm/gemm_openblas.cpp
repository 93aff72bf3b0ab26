// The optional OpenBLAS backend of sgemm/dgemm (kernels/cpu/gemm.h, GemmBackend).
// Compiled in with -DGRAFT_OPENBLAS=ON; OpenBLAS itself is opened with dlopen on
// first use, so neither the build nor a program that never asks for it depends on
// the library. Used only when chosen (set_gemm_backend or GRAFT_GEMM=openblas):
// it is there to compare against and to fall back on, never the default.
#include "kernels/cpu/gemm/gemm_openblas.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <type_traits>

#ifdef GRAFT_OPENBLAS
#include <dlfcn.h>
#endif

#include "core/error.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu {

namespace {

// cblas enums, as cblas.h numbers them (the header is not needed to build).
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using DgemmFn = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*,
                         int);
using SetThreadsFn = void (*)(int);

struct OpenBlas {
    SgemmFn sgemm = nullptr;
    DgemmFn dgemm = nullptr;
    SetThreadsFn set_threads = nullptr;
    std::string error;  // why it could not be loaded
};

std::atomic<int> openblas_threads{0};  // the count last given to OpenBLAS's own pool

const OpenBlas& library() {
    static OpenBlas lib = [] {
        OpenBlas l;
#ifdef GRAFT_OPENBLAS
        const char* candidates[] = {"libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
                                    "libopenblas.so"};
        void* handle = nullptr;
        for (const char* path : candidates)
            if ((handle = dlopen(path, RTLD_NOW | RTLD_LOCAL))) break;
        if (!handle) {
            l.error = "libopenblas.so.0 could not be opened (" + std::string(dlerror()) +
                      "); on Debian: apt-get install libopenblas0-pthread";
            return l;
        }
        l.sgemm = reinterpret_cast<SgemmFn>(dlsym(handle, "cblas_sgemm"));
        l.dgemm = reinterpret_cast<DgemmFn>(dlsym(handle, "cblas_dgemm"));
        l.set_threads = reinterpret_cast<SetThreadsFn>(dlsym(handle, "openblas_set_num_threads"));
        if (!l.sgemm || !l.dgemm) l.error = "the OpenBLAS library found has no cblas_sgemm/cblas_dgemm";
#else
        l.error = "Graft was built without the OpenBLAS backend (configure with -DGRAFT_OPENBLAS=ON)";
#endif
        return l;
    }();
    return lib;
}

std::atomic<GemmBackend>& backend_slot() {
    static std::atomic<GemmBackend> slot = [] {
        const char* env = std::getenv("GRAFT_GEMM");
        if (!env || !*env || !std::strcmp(env, "graft")) return GemmBackend::Graft;
        check(!std::strcmp(env, "openblas"), "GRAFT_GEMM", "unknown GEMM backend '", env,
              "' (expected graft or openblas)");
        check(library().error.empty(), "GRAFT_GEMM=openblas", library().error);
        return GemmBackend::OpenBlas;
    }();
    return slot;
}

// OpenBLAS keeps its own pool: give it the thread count Graft would use.
void sync_threads() {
    const OpenBlas& lib = library();
    const int want = get_num_threads();
    if (lib.set_threads && openblas_threads.exchange(want) != want) lib.set_threads(want);
}

template <typename T>
void bias_relu_pass(int64_t m, int64_t n, const GemmEpilogue<T>& e, T* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T& x = c[i * ldc + j];
            if (e.row_bias) x += e.row_bias[i];
            if (e.col_bias) x += e.col_bias[j];
            if (e.relu && x < T(0)) x = T(0);
        }
}

}  // namespace

bool openblas_available() { return library().error.empty(); }

void set_gemm_backend(GemmBackend backend) {
    check(backend == GemmBackend::Graft || openblas_available(), "set_gemm_backend", library().error);
    backend_slot().store(backend);
}

GemmBackend gemm_backend() { return backend_slot().load(); }

template <typename T>
void openblas_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                   int64_t stride_a, const T* b, int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                   int64_t stride_c, int64_t batch, const GemmEpilogue<T>& epilogue) {
    const OpenBlas& lib = library();
    check(m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX && lda <= INT32_MAX && ldb <= INT32_MAX &&
              ldc <= INT32_MAX,
          "gemm (OpenBLAS backend)", "sizes beyond 32-bit BLAS integers: m=", m, " n=", n, " k=", k);
    sync_threads();
    for (int64_t i = 0; i < batch; ++i) {
        const int ta = trans_a ? kTrans : kNoTrans, tb = trans_b ? kTrans : kNoTrans;
        // BLAS wants ld >= 1 even for empty matrices.
        const int la = int(std::max<int64_t>(lda, 1)), lb = int(std::max<int64_t>(ldb, 1));
        const int lc = int(std::max<int64_t>(ldc, 1));
        if constexpr (std::is_same_v<T, float>)
            lib.sgemm(kRowMajor, ta, tb, int(m), int(n), int(k), alpha, a + i * stride_a, la, b + i * stride_b, lb,
                      beta, c + i * stride_c, lc);
        else
            lib.dgemm(kRowMajor, ta, tb, int(m), int(n), int(k), alpha, a + i * stride_a, la, b + i * stride_b, lb,
                      beta, c + i * stride_c, lc);
        if (!epilogue.empty()) bias_relu_pass(m, n, epilogue, c + i * stride_c, ldc);
    }
}

template void openblas_gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                                   const float*, int64_t, int64_t, float, float*, int64_t, int64_t, int64_t,
                                   const GemmEpilogue<float>&);
template void openblas_gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, int64_t,
                                    const double*, int64_t, int64_t, double, double*, int64_t, int64_t, int64_t,
                                    const GemmEpilogue<double>&);

}  // namespace graft::kernels::cpu
