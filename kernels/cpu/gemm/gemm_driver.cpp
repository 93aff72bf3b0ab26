// The GEMM driver: the five BLIS loops around the micro-kernel and the split of C
// among threads (the public entry points, gemm_api.cpp, call gemm_run).
//
//   C [m, n] = alpha · op(A) [m, k] · op(B) [k, n] + beta · C        (row-major)
//
//   loop 5  jc  NC columns of C and op(B)
//   loop 4  pc  a KC slice of k; pack op(B)[pc, jc] into NR-column micro-panels (L3)
//   loop 3  ic  MC rows of C and op(A); pack op(A)[ic, pc] into MR-row micro-panels (L2)
//   loop 2  jr  NR columns: one B micro-panel
//   loop 1  ir  MR rows: one A micro-panel; the micro-kernel updates the MR x NR C tile
//
// Threads: C is cut once into nthreads rectangles along rows (ic) and/or columns
// (jc), the cut that duplicates the least packing; each thread runs the five loops
// on its rectangle with its own packed buffers: one fork-join per call, no barrier.
// Every C element is computed by one thread over k in KC slices whose boundaries
// depend on k alone, so results are bit-identical for any thread count.
// An A that few columns reuse (n <= the table's a_inplace_n) is read in place
// instead of packed; batches of products go one per thread when there are enough.
// A fused epilogue (bias, ReLU; kernels/cpu/gemm.h) runs on each mc x NR strip of C
// right after the micro-kernels' last KC slice for it, while the strip is in L1.
#include <algorithm>
#include <memory>
#include <new>

#include "kernels/cpu/gemm/gemm_kernel.h"
#include "kernels/parallel.h"

namespace graft::kernels::cpu {

namespace {

constexpr int64_t kParallelFlops = int64_t(1) << 22;  // below this, one thread: a fork-join costs more
constexpr int64_t kPackCost = 16;  // flops one packed element costs, for choosing the thread split

int64_t round_up(int64_t x, int64_t unit) { return (x + unit - 1) / unit * unit; }
int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }

// A 64-byte aligned buffer per thread and slot (0: packed A, 1: packed B), grown on demand.
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

// KC slices: ceil(k / KC) slices of equal size (rounded to k_unit), so k = KC + 1
// is not one full slice and a sliver. Depends on k alone: the k order per C
// element is the same whatever the threads.
template <typename In, typename Out>
int64_t kc_step(int64_t kc_max, const GemmConfig<In, Out>& cfg, int64_t k) {
    return round_up(ceil_div(k, ceil_div(k, kc_max)), cfg.k_unit);
}

// Whether the micro-kernel reads op(A) in place (gemm_kernel.h, a_inplace_n)
// rather than packed: decided once per problem, by shape.
template <typename In, typename Out>
bool a_in_place(const GemmConfig<In, Out>& cfg, const GemmProblem<In, Out>& g) {
    return cfg.ukernel_strided && g.n <= cfg.a_inplace_n;
}

// The epilogue on one m x n tile of C at c (row stride ldc); the biases are
// already offset to the tile's first row and column.
template <typename Out>
void apply_epilogue(int64_t m, int64_t n, const Out* row_bias, const Out* col_bias, bool relu, Out* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i) {
        Out* ci = c + i * ldc;
        const Out rb = row_bias ? row_bias[i] : Out(0);
        if (col_bias)
            for (int64_t j = 0; j < n; ++j) ci[j] += rb + col_bias[j];
        else if (row_bias)
            for (int64_t j = 0; j < n; ++j) ci[j] += rb;
        if (relu)
            for (int64_t j = 0; j < n; ++j) ci[j] = ci[j] < Out(0) ? Out(0) : ci[j];  // NaN passes, as relu
    }
}

// Loops 2 and 1 over one A block [mc, kc] (packed, or in place) and the packed B
// block [kc, nc]: every MR x NR tile of C[ic : ic+mc, jc : jc+nc] gets one
// micro-kernel call. a_panel(ir) gives each A micro-panel's start and strides.
struct Panel {
    const void* data;
    int64_t rs, cs;  // element (i, p) at rs*i + cs*p
};
// `epilogue` is null except on the last KC slice; its biases start at this block.
template <typename In, typename Out, typename APanel>
void macro_kernel(const GemmConfig<In, Out>& cfg, bool a_inplace, int64_t mc, int64_t nc, int64_t kc, Out alpha,
                  Out beta, const In* bp, Out* c, int64_t ldc, const APanel& a_panel, const GemmEpilogue<Out>* epilogue) {
    const int64_t kp = round_up(kc, cfg.k_unit);
    for (int64_t jr = 0; jr < nc; jr += cfg.nr) {        // loop 2: NR columns, one B micro-panel
        for (int64_t ir = 0; ir < mc; ir += cfg.mr) {  // loop 1: MR rows, one A micro-panel
            const int64_t m = std::min(cfg.mr, mc - ir), n = std::min(cfg.nr, nc - jr);
            const Panel ai = a_panel(ir);
            const In* pa = static_cast<const In*>(ai.data);
            Out* cij = c + ir * ldc + jr;
            if (a_inplace) cfg.ukernel_strided(m, n, kc, alpha, pa, ai.rs, ai.cs, bp + jr * kp, beta, cij, ldc, 1);
            else cfg.ukernel(m, n, kc, alpha, pa, bp + jr * kp, beta, cij, ldc, 1);
        }
        // The epilogue on the finished mc x NR column strip (in L1), not on each tile
        // straight after its micro-kernel: reading back a tile whose wide stores
        // are still in flight stalls on store-to-load forwarding (measured: it made
        // the fused 64x32x12544 product 1.7x slower than a separate pass).
        if (epilogue)
            apply_epilogue(mc, std::min(cfg.nr, nc - jr), epilogue->row_bias,
                           epilogue->col_bias ? epilogue->col_bias + jr : nullptr, epilogue->relu, c + jr, ldc);
    }
}

// One product's C[i0:i1, j0:j1] by the five loops, on the calling thread.
template <typename In, typename Out>
void gemm_rectangle(const GemmConfig<In, Out>& cfg, const GemmProblem<In, Out>& g, bool a_inplace, const In* a,
                    const In* b, Out* c, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    const int64_t step = kc_step(a_inplace ? cfg.kc_a_inplace : cfg.kc, cfg, g.k);
    const int64_t kc_max = std::min(step, round_up(g.k, cfg.k_unit));
    const int64_t rs_a = g.trans_a ? 1 : g.lda, cs_a = g.trans_a ? g.lda : 1;  // op(A) in place
    In* ap = scratch<In>(0, round_up(std::min(cfg.mc, i1 - i0), cfg.mr) * kc_max);
    In* bp = scratch<In>(1, round_up(std::min(cfg.nc, j1 - j0), cfg.nr) * kc_max);
    for (int64_t jc = j0; jc < j1; jc += cfg.nc) {  // loop 5: NC columns of C and B
        const int64_t nc = std::min(cfg.nc, j1 - jc);
        for (int64_t pc = 0; pc < g.k; pc += step) {  // loop 4: KC slice of k; pack B[pc, jc]
            const int64_t kc = std::min(step, g.k - pc), kp = round_up(kc, cfg.k_unit);
            const Out beta = pc == 0 ? g.beta : Out(1);  // later slices add to C
            cfg.pack_b(g.trans_b, b, g.ldb, jc, nc, pc, kc, bp);
            for (int64_t ic = i0; ic < i1; ic += cfg.mc) {  // loop 3: MC rows of C and A; pack A[ic, pc]
                const int64_t mc = std::min(cfg.mc, i1 - ic), full = mc / cfg.mr * cfg.mr;
                // In place, only a last short panel is packed: rows past m must not be read.
                if (!a_inplace) cfg.pack_a(g.trans_a, a, g.lda, ic, mc, pc, kc, ap);
                else if (full < mc) cfg.pack_a(g.trans_a, a, g.lda, ic + full, mc - full, pc, kc, ap);
                const auto a_panel = [&](int64_t ir) {
                    if (!a_inplace) return Panel{ap + ir * kp, 1, cfg.mr};
                    if (ir >= full) return Panel{ap, 1, cfg.mr};
                    return Panel{a + (ic + ir) * rs_a + pc * cs_a, rs_a, cs_a};
                };
                // The tile's biases from (ic, jc), on the last k slice only.
                GemmEpilogue<Out> tail = g.epilogue;
                if (tail.row_bias) tail.row_bias += ic;
                if (tail.col_bias) tail.col_bias += jc;
                const bool last = pc + step >= g.k && !g.epilogue.empty();
                macro_kernel(cfg, a_inplace, mc, nc, kc, g.alpha, beta, bp, c + ic * g.ldc + jc, g.ldc, a_panel,
                             last ? &tail : nullptr);
            }
        }
    }
}

// C = beta·C, for the products A and B do not touch (k == 0 or alpha == 0).
template <typename Out>
void scale_c(int64_t m, int64_t n, Out beta, Out* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == Out(0) ? Out(0) : beta * c[i * ldc + j];
}

// How many threads along rows (tm) and columns (tn) of C: tm·tn == nthreads,
// minimising the busiest thread's work, flops plus packing (a row share packs
// its A rows once per NC block and all of B's columns it needs; a column share
// the other way round).
struct Grid {
    int64_t tm, tn;
};
template <typename In, typename Out>
Grid choose_grid(const GemmConfig<In, Out>& cfg, int64_t m, int64_t n, int64_t k, int nthreads) {
    Grid best{1, 1};
    double best_cost = -1;
    for (int64_t tm = 1; tm <= nthreads; ++tm) {
        if (nthreads % tm != 0) continue;
        const int64_t tn = nthreads / tm;
        const double rows = double(std::min(m, ceil_div(ceil_div(m, cfg.mr), tm) * cfg.mr));
        const double cols = double(std::min(n, ceil_div(ceil_div(n, cfg.nr), tn) * cfg.nr));
        const double cost = 2 * rows * cols * double(k) +
                            kPackCost * double(k) * (rows * double(ceil_div(int64_t(cols), cfg.nc)) + cols);
        if (best_cost < 0 || cost < best_cost) best_cost = cost, best = {tm, tn};
    }
    return best;
}

// Product `bi` of the problem, on nthreads threads (1: inline).
template <typename In, typename Out>
void gemm_product(const GemmConfig<In, Out>& cfg, const GemmProblem<In, Out>& g, int64_t bi, int nthreads) {
    const In* a = g.a + bi * g.stride_a;
    const In* b = g.b + bi * g.stride_b;
    Out* c = g.c + bi * g.stride_c;
    if (g.k == 0 || g.alpha == Out(0)) {
        scale_c(g.m, g.n, g.beta, c, g.ldc);
        if (!g.epilogue.empty())
            apply_epilogue(g.m, g.n, g.epilogue.row_bias, g.epilogue.col_bias, g.epilogue.relu, c, g.ldc);
        return;
    }
    const bool a_inplace = a_in_place(cfg, g);
    if (nthreads <= 1) return gemm_rectangle(cfg, g, a_inplace, a, b, c, 0, g.m, 0, g.n);
    const Grid grid = choose_grid(cfg, g.m, g.n, g.k, nthreads);
    const int64_t pm = ceil_div(g.m, cfg.mr), pn = ceil_div(g.n, cfg.nr);  // micro-panels along m and n
    parallel_for(0, grid.tm * grid.tn, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t ti = t / grid.tn, tj = t % grid.tn;
            const int64_t i0 = std::min(g.m, pm * ti / grid.tm * cfg.mr), i1 = std::min(g.m, pm * (ti + 1) / grid.tm * cfg.mr);
            const int64_t j0 = std::min(g.n, pn * tj / grid.tn * cfg.nr), j1 = std::min(g.n, pn * (tj + 1) / grid.tn * cfg.nr);
            if (i0 < i1 && j0 < j1) gemm_rectangle(cfg, g, a_inplace, a, b, c, i0, i1, j0, j1);
        }
    });
}

}  // namespace

template <typename In, typename Out>
void gemm_run(const GemmConfig<In, Out>& cfg, const GemmProblem<In, Out>& g) {
    if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
    const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k) * double(g.batch);
    const int nthreads = in_parallel_region() || flops < double(kParallelFlops) ? 1 : get_num_threads();
    if (nthreads > 1 && g.batch > 1 && (g.batch % nthreads == 0 || g.batch >= 8 * nthreads)) {
        parallel_for(0, g.batch, 1, [&](int64_t lo, int64_t hi) {  // whole products per thread
            for (int64_t bi = lo; bi < hi; ++bi) gemm_product(cfg, g, bi, 1);
        });
        return;
    }
    for (int64_t bi = 0; bi < g.batch; ++bi) gemm_product(cfg, g, bi, nthreads);
}

template void gemm_run<float, float>(const GemmConfig<float, float>&, const GemmProblem<float, float>&);
template void gemm_run<double, double>(const GemmConfig<double, double>&, const GemmProblem<double, double>&);
template void gemm_run<bf16_bits, float>(const GemmConfig<bf16_bits, float>&, const GemmProblem<bf16_bits, float>&);

}  // namespace graft::kernels::cpu
