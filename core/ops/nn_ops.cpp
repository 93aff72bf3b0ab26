// dropout and embedding: forward and the backward beside it (nn_ops.h).
#include "core/ops/nn_ops.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/autograd/record.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/indexing.h"
#include "kernels/parallel.h"

namespace graft {

using autograd::Grads;
using autograd::Needs;
using autograd::SavedTensor;

// y = x * m, m = bernoulli(1 - p) / (1 - p)  =>  dx = g * m
Tensor dropout(const Tensor& input, double p, bool training, Generator* gen) {
    const char* op = "dropout";
    check(p >= 0.0 && p <= 1.0, op, "p must be in [0, 1], got ", p);
    check(is_floating(input.dtype()), op, "expected a floating-point input, got ", describe(input));
    if (!training || p == 0.0) return input;
    // The scaled mask, saved for backward in place of the input.
    Tensor mask = p == 1.0 ? zeros(input.shape(), input.dtype(), input.device())
                           : mul(bernoulli(input.shape(), 1.0 - p, input.dtype(), gen), 1.0 / (1.0 - p));
    if (!input.device().is_cpu()) mask = mask.to(input.device());
    Tensor out;
    {
        NoGradGuard no_grad;
        out = mul(input, mask);
    }
    if (autograd::should_record({&input})) {
        autograd::record(op, {input}, out, [sm = SavedTensor(mask)](const Tensor& g, const Needs&) {
            return Grads{mul(g, sm.get("dropout"))};
        });
    }
    return out;
}

namespace {

// dW[indices[i]] += g[i] for every i, skipping padding_idx. Each task owns a
// block of columns and walks all indices in order, so sums of repeated indices
// never depend on the thread count.
template <typename T>
Tensor embedding_backward(const Tensor& g_in, const std::vector<int64_t>& idx, int64_t V, int64_t H,
                          std::optional<int64_t> padding_idx) {
    const Tensor g = g_in.to(dtype_of<T>::value).contiguous();
    Tensor dw = zeros({V, H}, dtype_of<T>::value);
    const T* pg = g.data<T>();
    T* pd = dw.data<T>();
    const int64_t n = int64_t(idx.size());
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1));
    parallel_for(0, H, grain, [&](int64_t h0, int64_t h1) {
        for (int64_t i = 0; i < n; ++i) {
            const int64_t row = idx[size_t(i)];
            if (padding_idx && row == *padding_idx) continue;
            for (int64_t h = h0; h < h1; ++h) pd[row * H + h] += pg[i * H + h];
        }
    });
    return dw;
}

}  // namespace

// y[i] = W[indices[i]]  =>  dW = index_add(zeros, indices, g)  (padding row excluded)
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx) {
    const char* op = "embedding";
    check(weight.dim() == 2, op, "weight must be [num_embeddings, embedding_dim], got ", describe(weight));
    check(weight.device().is_cpu() && indices.device().is_cpu(), op, "only CPU tensors are supported so far, got ",
          describe(weight), " and ", describe(indices));
    check(is_floating(weight.dtype()), op, "expected a floating-point weight, got ", describe(weight));
    check(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, op,
          "expected int64 indices, got ", describe(indices));
    const int64_t V = weight.size(0), H = weight.size(1);
    if (padding_idx) {
        check(*padding_idx >= -V && *padding_idx < V, op, "padding_idx ", *padding_idx,
              " is out of range for weight ", describe(weight));
        if (*padding_idx < 0) padding_idx = *padding_idx + V;
    }
    const Tensor flat = indices.to(DType::Int64).contiguous().reshape({-1});
    auto idx = std::make_shared<const std::vector<int64_t>>(flat.to_vector<int64_t>());
    for (size_t i = 0; i < idx->size(); ++i)
        check((*idx)[i] >= 0 && (*idx)[i] < V, op, "index ", (*idx)[i], " at flat index ", i,
              " is out of range for weight ", describe(weight), " (V = ", V, ")");
    Shape out_shape = indices.shape();
    out_shape.push_back(H);
    const Tensor out = index_select(weight.detach(), 0, flat).reshape(out_shape);
    if (autograd::should_record({&weight})) {
        autograd::record(op, {weight}, out,
                         [idx, V, H, padding_idx, dtype = weight.dtype()](const Tensor& g, const Needs&) {
                             return visit_float_dtype(dtype, "embedding", [&](auto tag) {
                                 using T = typename decltype(tag)::type;
                                 return Grads{embedding_backward<T>(g, *idx, V, H, padding_idx)};
                             });
                         });
    }
    return out;
}

}  // namespace graft
