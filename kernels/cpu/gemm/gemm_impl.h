// The blocked GEMM body, included once per ISA level inside namespace
// GRAFT_ISA_NAMESPACE (gemm_dispatch.cpp: baseline x86-64, gemm_avx2.cpp,
// gemm_avx512.cpp); each includer picks the register block MR x NR per dtype.
//
// Structure (a simplified BLIS): C is cut into tiles of at most MC x NC, one
// task each; a task walks k in KC slices, packs its A slice into MR-row
// micro-panels and its B slice into NR-column micro-panels (zero-padded at the
// edges), and runs the micro-kernel over every MR x NR block of its tile.
// Tasks are independent and each C element is summed by one task over k in
// order, so the result does not depend on the thread count. A later revision
// replaces this with the tuned five-loop driver behind the same interface.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "kernels/cpu/gemm/gemm_kernel.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

namespace {

constexpr int64_t kKC = 256;     // k slice: an MR x KC or KC x NR panel stays in L1
constexpr int64_t kMCMax = 120;  // rows per task: the packed A slice stays in L2
constexpr int64_t kNCMax = 256;  // columns per task
constexpr int64_t kInlineFlops = int64_t(1) << 21;  // below this, no threads

// A SIMD register of L lanes of T, as a GCC/Clang vector type: the compiler
// emits this level's instructions for it without intrinsics.
template <typename T, int L>
struct VecOf {
    typedef T type __attribute__((vector_size(L * sizeof(T))));
};

// a*b + c per lane, fused where this level has FMA (the baseline build has none,
// and a libm fma call there would be far slower than the two operations). The
// lane loop compiles to one vfmadd.
template <typename V, int L>
inline V fmadd(V a, V b, V c) {
#if defined(__FMA__)
    V r;
    for (int l = 0; l < L; ++l) r[l] = std::fma(a[l], b[l], c[l]);
    return r;
#else
    return a * b + c;
#endif
}

// A 64-byte aligned scratch buffer per thread, grown on demand.
template <typename T>
T* scratch(int slot, int64_t count) {
    struct Buffer {
        std::unique_ptr<T[], void (*)(T*)> data{nullptr, [](T* p) { ::operator delete[](p, std::align_val_t(64)); }};
        int64_t size = 0;
    };
    thread_local Buffer buffers[2];
    Buffer& buf = buffers[slot];
    if (buf.size < count) {
        buf.data.reset(static_cast<T*>(::operator new[](size_t(count) * sizeof(T), std::align_val_t(64))));
        buf.size = count;
    }
    return buf.data.get();
}

// op(A)[i0 : i0+mc, p0 : p0+kc] -> ap as ceil(mc/MR) panels of [kc][MR]. Reads
// follow memory order (a row of A, or a row of Aᵀ's storage) so large leading
// dimensions do not turn every load into a cache miss.
template <typename T, int MR>
void pack_a(const GemmProblem<T>& pr, const T* a, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* ap) {
    for (int64_t ir = 0; ir < mc; ir += MR, ap += kc * MR) {
        const int64_t rows = std::min<int64_t>(MR, mc - ir);
        if (rows < MR) std::fill(ap, ap + kc * MR, T(0));
        if (!pr.trans_a) {  // A [m, k]: each row contiguous along p
            for (int64_t i = 0; i < rows; ++i) {
                const T* src = a + (i0 + ir + i) * pr.lda + p0;
                for (int64_t p = 0; p < kc; ++p) ap[p * MR + i] = src[p];
            }
        } else {            // A stored [k, m]: MR contiguous values per p
            for (int64_t p = 0; p < kc; ++p) {
                const T* src = a + (p0 + p) * pr.lda + i0 + ir;
                for (int64_t i = 0; i < rows; ++i) ap[p * MR + i] = src[i];
            }
        }
    }
}

// op(B)[p0 : p0+kc, j0 : j0+nc] -> bp as ceil(nc/NR) panels of [kc][NR].
template <typename T, int NR>
void pack_b(const GemmProblem<T>& pr, const T* b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, T* bp) {
    const int64_t tail = nc % NR;
    if (tail != 0) std::fill(bp + (nc - tail) * kc, bp + (nc - tail + NR) * kc, T(0));
    if (!pr.trans_b) {  // B [k, n]: walk each row of the slice once, left to right
        for (int64_t p = 0; p < kc; ++p) {
            const T* src = b + (p0 + p) * pr.ldb + j0;
            for (int64_t jr = 0; jr < nc; jr += NR)
                std::copy(src + jr, src + std::min(nc, jr + NR), bp + jr * kc + p * NR);
        }
    } else {            // B stored [n, k]: column j of op(B) contiguous along p
        for (int64_t j = 0; j < nc; ++j) {
            const T* src = b + (j0 + j) * pr.ldb + p0;
            T* dst = bp + (j / NR) * NR * kc + j % NR;
            for (int64_t p = 0; p < kc; ++p) dst[p * NR] = src[p];
        }
    }
}

// c[mr, nr] (row stride ldc) = alpha * ap·bp + beta * c, with ap [kc][MR] and
// bp [kc][NR] packed, NR = NV vectors of L lanes. beta == 0 never reads c. The
// MR x NV accumulators fill most of this level's registers; the loops unroll
// fully so they stay there.
template <typename T, int MR, int NR, int L>
void micro_kernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, T* __restrict c, int64_t ldc,
                  int64_t mr, int64_t nr, T alpha, T beta) {
    constexpr int NV = NR / L;
    using V = typename VecOf<T, L>::type;
    V acc[MR][NV] = {};
    for (int64_t p = 0; p < kc; ++p, ap += MR, bp += NR) {
        V b[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) std::memcpy(&b[v], bp + v * L, sizeof(V));
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            V a;
            for (int l = 0; l < L; ++l) a[l] = ap[i];
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = fmadd<V, L>(a, b[v], acc[i][v]);
        }
    }
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < NV; ++v) {
                T* cv = c + i * ldc + v * L;
                V r = alpha * acc[i][v];
                if (beta != T(0)) {
                    V old;
                    std::memcpy(&old, cv, sizeof(V));
                    r += beta * old;
                }
                std::memcpy(cv, &r, sizeof(V));
            }
        return;
    }
    for (int64_t i = 0; i < mr; ++i) {
        T* ci = c + i * ldc;
        for (int64_t j = 0; j < nr; ++j) {
            const T r = alpha * acc[i][j / L][j % L];
            ci[j] = beta == T(0) ? r : r + beta * ci[j];
        }
    }
}

// C = beta * C for the products where A and B do not contribute (k == 0, alpha == 0).
template <typename T>
void scale_c(const GemmProblem<T>& pr) {
    for (int64_t bi = 0; bi < pr.batch; ++bi)
        for (int64_t i = 0; i < pr.m; ++i) {
            T* ci = pr.c + bi * pr.stride_c + i * pr.ldc;
            for (int64_t j = 0; j < pr.n; ++j) ci[j] = pr.beta == T(0) ? T(0) : pr.beta * ci[j];
        }
}

// Splits `total` into equal blocks of at most `max_block`, rounded up to `unit`.
inline int64_t block_size(int64_t total, int64_t max_block, int64_t unit) {
    const int64_t blocks = (total + max_block - 1) / max_block;
    const int64_t even = (total + blocks - 1) / blocks;
    return (even + unit - 1) / unit * unit;
}

// One task: the C tile [i0 : i0+mc, j0 : j0+nc] of product `bi`.
template <typename T, int MR, int NR, int L>
void gemm_tile(const GemmProblem<T>& pr, int64_t bi, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
    const T* a = pr.a + bi * pr.stride_a;
    const T* b = pr.b + bi * pr.stride_b;
    T* c = pr.c + bi * pr.stride_c;
    const int64_t mc_pad = (mc + MR - 1) / MR * MR, nc_pad = (nc + NR - 1) / NR * NR;
    T* ap = scratch<T>(0, mc_pad * kKC);
    T* bp = scratch<T>(1, nc_pad * kKC);
    for (int64_t p0 = 0; p0 < pr.k; p0 += kKC) {
        const int64_t kc = std::min(kKC, pr.k - p0);
        const T beta = p0 == 0 ? pr.beta : T(1);  // later k slices accumulate
        pack_b<T, NR>(pr, b, p0, kc, j0, nc, bp);
        pack_a<T, MR>(pr, a, i0, mc, p0, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
            for (int64_t ir = 0; ir < mc; ir += MR)
                micro_kernel<T, MR, NR, L>(kc, ap + ir * kc, bp + jr * kc, c + (i0 + ir) * pr.ldc + j0 + jr, pr.ldc,
                                        std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr), pr.alpha, beta);
    }
}

}  // namespace

template <typename T, int MR, int NR, int L>
void gemm_blocked(const GemmProblem<T>& pr) {
    if (pr.m <= 0 || pr.n <= 0 || pr.batch <= 0) return;
    if (pr.k <= 0 || pr.alpha == T(0)) {
        scale_c(pr);
        return;
    }
    const int64_t mc = block_size(pr.m, kMCMax, MR), nc = block_size(pr.n, kNCMax, NR);
    const int64_t mb = (pr.m + mc - 1) / mc, nb = (pr.n + nc - 1) / nc;
    const int64_t tasks = pr.batch * mb * nb;
    const int64_t task_flops = std::max<int64_t>(1, 2 * mc * nc * pr.k);
    const int64_t grain = std::max<int64_t>(1, kInlineFlops / task_flops);
    parallel_for(0, tasks, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t bi = t / (mb * nb), ib = t / nb % mb, jb = t % nb;
            const int64_t i0 = ib * mc, j0 = jb * nc;
            gemm_tile<T, MR, NR, L>(pr, bi, i0, std::min(mc, pr.m - i0), j0, std::min(nc, pr.n - j0));
        }
    });
}

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
