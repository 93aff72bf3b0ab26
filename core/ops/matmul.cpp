// matmul with torch.matmul's rules, computed by the GEMM kernel:
//   [K]·[K]             -> []           (dot)
//   [M, K]·[K]          -> [M]          (b promoted to [K, 1], then the 1 removed)
//   [K]·[K, N]          -> [N]          (a promoted to [1, K], then the 1 removed)
//   [..., M, K]·[..., K, N] -> [..., M, N]   (leading batch dims broadcast)
// Transposed and otherwise strided matrices reach the kernel as transpose
// flags and leading dimensions; only layouts GEMM cannot describe are copied.
#include "core/ops/matmul.h"

#include <optional>

#include "core/autograd/record.h"
#include "core/ops/convert.h"
#include "core/ops/iter.h"
#include "core/ops/reduction.h"
#include "core/ops/views.h"
#include "kernels/cpu/gemm.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

namespace {

// How GEMM reads a [rows, cols] matrix stored with strides (sr, sc).
struct GemmLayout {
    bool trans;
    int64_t ld;
};

std::optional<GemmLayout> gemm_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
    // Row-major: element (i, j) at i*ld + j. A size-1 dim's stride never matters.
    if ((cols <= 1 || sc == 1) && (rows <= 1 || sr >= std::max<int64_t>(cols, 1)))
        return GemmLayout{false, rows <= 1 ? std::max<int64_t>(cols, 1) : sr};
    // Column-major (a transposed view): element (i, j) at j*ld + i.
    if ((rows <= 1 || sr == 1) && (cols <= 1 || sc >= std::max<int64_t>(rows, 1)))
        return GemmLayout{true, cols <= 1 ? std::max<int64_t>(rows, 1) : sc};
    return std::nullopt;
}

// The element offset of each matrix of `t` (dims [..., rows, cols]) when its
// batch dims are broadcast to `batch_shape`, in row-major batch order.
std::vector<int64_t> batch_offsets(const Tensor& t, const Shape& batch_shape) {
    const Shape t_batch(t.shape().begin(), t.shape().end() - 2);
    const Strides t_strides(t.strides().begin(), t.strides().end() - 2);
    const Strides s = broadcast_strides(t_batch, t_strides, batch_shape);
    std::vector<int64_t> offsets(size_t(shape_numel(batch_shape)));
    for (size_t i = 0; i < offsets.size(); ++i) {
        int64_t rem = int64_t(i), off = 0;
        for (size_t d = batch_shape.size(); d-- > 0;) {
            off += (rem % batch_shape[d]) * s[d];
            rem /= batch_shape[d];
        }
        offsets[i] = off;
    }
    return offsets;
}

// The common step of offsets i*step, or nullopt when they are not evenly spaced.
std::optional<int64_t> even_step(const std::vector<int64_t>& offsets) {
    const int64_t step = offsets.size() > 1 ? offsets[1] - offsets[0] : 0;
    for (size_t i = 0; i < offsets.size(); ++i)
        if (offsets[i] != int64_t(i) * step) return std::nullopt;
    return step;
}

// A matrix operand ready for GEMM: itself when its last two dims have a GEMM
// layout, else a contiguous copy.
Tensor gemm_ready(const Tensor& t, GemmLayout& layout) {
    const int64_t nd = t.dim();
    const auto l = gemm_layout(t.size(nd - 2), t.size(nd - 1), t.stride(nd - 2), t.stride(nd - 1));
    if (l) {
        layout = *l;
        return t;
    }
    Tensor c = t.contiguous();
    layout = {false, std::max<int64_t>(t.size(nd - 1), 1)};
    return c;
}

// out [batch..., M, N] (contiguous) = a [abatch..., M, K] · b [bbatch..., K, N].
template <typename T>
void batched_product(const Tensor& a_in, const Tensor& b_in, const Tensor& out, const Shape& batch_shape) {
    GemmLayout la{}, lb{};
    const Tensor a = gemm_ready(a_in, la), b = gemm_ready(b_in, lb);
    const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
    const std::vector<int64_t> oa = batch_offsets(a, batch_shape), ob = batch_offsets(b, batch_shape);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    const int64_t batch = int64_t(oa.size());
    const auto sa = even_step(oa), sb = even_step(ob);
    if (sa && sb) {
        kernels::cpu::gemm_strided_batched(la.trans, lb.trans, m, n, k, T(1), pa, la.ld, *sa, pb, lb.ld, *sb, T(0), pc,
                                           n, m * n, batch);
        return;
    }
    // Batch dims broadcast in a pattern no single stride describes: one call each.
    for (int64_t i = 0; i < batch; ++i)
        kernels::cpu::gemm(la.trans, lb.trans, m, n, k, T(1), pa + oa[size_t(i)], la.ld, pb + ob[size_t(i)], lb.ld,
                           T(0), pc + i * m * n, n);
}

void check_operands(const Tensor& a, const Tensor& b) {
    check(a.dim() >= 1 && b.dim() >= 1, "matmul", "both operands need at least one dimension, got ", describe(a),
          " and ", describe(b));
    check(a.device().is_cpu() && b.device().is_cpu(), "matmul", "only CPU tensors are supported so far, got ",
          describe(a), " and ", describe(b));
    check(a.dtype() == b.dtype(), "matmul", "expected operands of one dtype, got ", describe(a), " and ", describe(b));
    check(a.dtype() == DType::Float32 || a.dtype() == DType::Float64, "matmul",
          "expected float32 or float64 operands, got ", describe(a), " and ", describe(b));
    const int64_t ka = a.size(-1), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
    check(ka == kb, "matmul", "shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
          " cannot be multiplied (", ka, " != ", kb, ")");
}

// The forward on promoted operands (both at least 2-d): [..., M, N].
Tensor product(const Tensor& a2, const Tensor& b2) {
    const Shape a_batch(a2.shape().begin(), a2.shape().end() - 2);
    const Shape b_batch(b2.shape().begin(), b2.shape().end() - 2);
    Shape shape = broadcast_shapes(a_batch, b_batch, "matmul");
    const Shape batch_shape = shape;
    shape.push_back(a2.size(-2));
    shape.push_back(b2.size(-1));
    Tensor out = Tensor::empty(shape, a2.dtype());
    if (out.numel() == 0) return out;
    visit_float_dtype(a2.dtype(), "matmul", [&](auto tag) {
        using T = typename decltype(tag)::type;
        batched_product<T>(a2, b2, out, batch_shape);
    });
    return out;
}

// Whether a matrix is stored column-major (a transposed view, like Linear's W.t()).
bool column_major(const Tensor& m) { return m.dim() == 2 && m.size(0) > 1 && m.stride(0) == 1 && m.stride(1) != 1; }

// aᵀ·g [K, N], the gradient of a [K, N] matrix b, laid out as b is: for a
// column-major b (W.t()), (gᵀ·a)ᵀ, so the gradient that reaches W through t()'s
// backward is a contiguous [N, K] and no one copies a transposed matrix.
Tensor product_grad(const Tensor& a, const Tensor& g, bool b_column_major) {
    return b_column_major ? matmul(g.t(), a).t() : matmul(a.t(), g);
}

// The gradient for `input` (shape before promotion) from its promoted form's.
Tensor unpromote(const Tensor& grad2, const Tensor& promoted, const Shape& input_shape) {
    return autograd::sum_to(grad2, promoted.shape()).reshape(input_shape);
}

}  // namespace

// d(A·B) = (dC·Bᵀ, Aᵀ·dC), each summed over the batch dims its operand was broadcast along
Tensor matmul(const Tensor& a, const Tensor& b) {
    check_operands(a, b);
    const Tensor a2 = a.dim() == 1 ? a.detach().unsqueeze(0) : a.detach();
    const Tensor b2 = b.dim() == 1 ? b.detach().unsqueeze(-1) : b.detach();
    Tensor out2 = product(a2, b2);
    Shape shape = out2.shape();  // [..., M, N]: drop the dims added by promotion
    if (a.dim() == 1) shape.erase(shape.end() - 2);
    if (b.dim() == 1) shape.erase(shape.end() - 1);
    Tensor out = out2.view(shape);
    if (!autograd::should_record({&a, &b})) return out;
    autograd::record("matmul", {a, b}, out,
                     [sa = SavedTensor(a), sb = SavedTensor(b), out2_shape = out2.shape(),
                      b_cm = column_major(b)](const Tensor& g, const Needs& needs) {
                         const Tensor av = sa.get("matmul"), bv = sb.get("matmul");
                         const Tensor ap = av.dim() == 1 ? av.unsqueeze(0) : av;
                         const Tensor bp = bv.dim() == 1 ? bv.unsqueeze(-1) : bv;
                         const Tensor g2 = g.reshape(out2_shape);
                         Tensor da, db;
                         if (needs[0]) da = unpromote(matmul(g2, bp.transpose(-1, -2)), ap, av.shape());
                         if (needs[1]) {
                             if (bp.dim() == 2 && ap.dim() > 2)  // a shared weight: one GEMM over all rows
                                 db = product_grad(ap.reshape({-1, ap.size(-1)}), g2.reshape({-1, g2.size(-1)}), b_cm)
                                          .reshape(bv.shape());
                             else if (bp.dim() == 2 && ap.dim() == 2 && bv.dim() == 2)
                                 db = product_grad(ap, g2, b_cm);
                             else
                                 db = unpromote(matmul(ap.transpose(-1, -2), g2), bp, bv.shape());
                         }
                         return Grads{da, db};
                     });
    return out;
}

// d(bias + A·B) = (dC summed over rows, dC·Bᵀ, Aᵀ·dC)
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b) {
    check(a.dim() == 2 && b.dim() == 2, "addmm", "expected matrices, got ", describe(a), " and ", describe(b));
    check_operands(a, b);
    check(bias.dim() == 1 && bias.size(0) == b.size(1) && bias.dtype() == a.dtype(), "addmm",
          "expected a bias of shape [", b.size(1), "] and dtype ", dtype_name(a.dtype()), ", got ", describe(bias),
          " (operands ", describe(a), " and ", describe(b), ")");
    const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
    Tensor out = Tensor::empty({m, n}, a.dtype());
    if (out.numel() > 0) {
        GemmLayout la{}, lb{};
        const Tensor ad = gemm_ready(a.detach(), la), bd = gemm_ready(b.detach(), lb), biasc = bias.detach().contiguous();
        visit_float_dtype(a.dtype(), "addmm", [&](auto tag) {
            using T = typename decltype(tag)::type;
            kernels::cpu::GemmEpilogue<T> epilogue;
            epilogue.col_bias = biasc.data<T>();
            kernels::cpu::gemm(la.trans, lb.trans, m, n, k, T(1), ad.data<T>(), la.ld, bd.data<T>(), lb.ld, T(0),
                               out.data<T>(), n, epilogue);
        });
    }
    if (!autograd::should_record({&bias, &a, &b})) return out;
    autograd::record("addmm", {bias, a, b}, out,
                     [sa = SavedTensor(a), sb = SavedTensor(b), b_cm = column_major(b)](const Tensor& g,
                                                                                       const Needs& needs) {
                         Tensor dbias, da, db;
                         if (needs[0]) dbias = sum(g, {0});
                         if (needs[1]) da = matmul(g, sb.get("addmm").t());
                         if (needs[2]) db = product_grad(sa.get("addmm"), g, b_cm);
                         return Grads{dbias, da, db};
                     });
    return out;
}

}  // namespace graft
