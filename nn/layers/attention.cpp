// MultiheadAttention: in-projection, scaled dot-product attention per head,
// masks, softmax with fully-masked rows defined, dropout, out-projection.
// Follows torch.nn.functional.multi_head_attention_forward (1.13) step by step;
// the tensors stay in the caller's layout until the heads are split, so the
// projections read the input without copying it.
#include "nn/layers/attention.h"

#include <cmath>

#include "core/ops/binary.h"
#include "core/ops/creation.h"
#include "core/ops/indexing.h"
#include "core/ops/matmul.h"
#include "core/ops/reduction.h"
#include "core/ops/softmax.h"
#include "nn/init.h"

namespace graft::nn {

namespace {

constexpr const char* kOp = "MultiheadAttention";

struct Projected {
    Tensor q, k, v;  // each [..., E] in the input's layout
};

// x·W_qᵀ + b_q and likewise for k and v, W_q = rows 0..E of in_proj_weight.
// Self-attention (one tensor for all three) runs one GEMM with all 3E rows.
Projected in_projection(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& w,
                        const Tensor& b, int64_t e) {
    if (query.is_same(key) && key.is_same(value)) {
        const std::vector<Tensor> qkv = linear(query, w, b).chunk(3, -1);  // [..., 3E] -> 3 x [..., E]
        return {qkv[0], qkv[1], qkv[2]};
    }
    auto part = [&](const Tensor& x, int64_t i) {
        return linear(x, w.narrow(0, i * e, e), b.defined() ? b.narrow(0, i * e, e) : Tensor());
    };
    return {part(query, 0), part(key, 1), part(value, 2)};
}

// [T, B, E] (or [B, T, E] batch-first) -> [B, H, T, hd], a view.
Tensor to_heads(const Tensor& t, int64_t heads, bool batch_first) {
    const int64_t hd = t.size(2) / heads;
    const Tensor split = t.view({t.size(0), t.size(1), heads, hd});
    return batch_first ? split.permute({0, 2, 1, 3}) : split.permute({1, 2, 0, 3});
}

// [B, H, L, hd] -> [L, B, E] (or [B, L, E] batch-first), contiguous.
Tensor from_heads(const Tensor& o, bool batch_first) {
    const Tensor t = batch_first ? o.permute({0, 2, 1, 3}) : o.permute({2, 0, 1, 3});
    return t.reshape({t.size(0), t.size(1), -1});
}

// A mask as an additive bias of the scores' dtype, reshaped to `shape`: bool
// true becomes -inf, float values stay as they are.
Tensor as_bias(const Tensor& mask, const Shape& shape, DType dtype) {
    const Tensor m = mask.reshape(shape);
    if (m.dtype() == DType::Bool) return masked_fill(zeros(shape, dtype, m.device()), m, -INFINITY);
    return m.dtype() == dtype ? m : m.to(dtype);
}

// Both masks as one additive bias broadcastable to the scores [B, H, L, S];
// undefined when there is no mask.
Tensor mask_bias(const AttentionOptions& o, int64_t b, int64_t h, int64_t l, int64_t s, DType dtype) {
    Tensor bias;
    if (o.attn_mask.defined())
        bias = as_bias(o.attn_mask, o.attn_mask.dim() == 2 ? Shape{1, 1, l, s} : Shape{b, h, l, s}, dtype);
    if (o.key_padding_mask.defined()) {
        const Tensor pad = as_bias(o.key_padding_mask, {b, 1, 1, s}, dtype);
        bias = bias.defined() ? add(bias, pad) : pad;
    }
    return bias;
}

// softmax over the last dim, except that rows whose scores are all -inf (every
// key masked) give zeros rather than torch's NaN, with zero gradient.
Tensor masked_softmax(const Tensor& scores) {
    const Tensor dead = eq(max(scores.detach(), -1, /*keepdim=*/true).values, -INFINITY);  // [B, H, L, 1]
    if (sum(dead.to(DType::Float32)).item<double>() == 0) return softmax(scores, -1);
    return masked_fill(softmax(masked_fill(scores, dead, 0.0), -1), dead, 0.0);
}

// Inverted dropout on the attention weights: keep with probability 1 - p,
// scale by 1 / (1 - p). (Written with bernoulli and mul: core has no dropout op yet.)
Tensor attention_dropout(const Tensor& w, double p) {
    if (p >= 1.0) return mul(w, 0.0);
    const Tensor keep = bernoulli(w.shape(), 1.0 - p, w.dtype());
    return mul(w, mul(keep, 1.0 / (1.0 - p)));
}

void check_mask(const Tensor& mask, const char* what, const Shape& a, const Shape& b) {
    if (!mask.defined()) return;
    check(mask.dtype() == DType::Bool || is_floating(mask.dtype()), kOp, what, " must be bool or floating, got ",
          describe(mask));
    check(mask.shape() == a || (!b.empty() && mask.shape() == b), kOp, what, " has shape ", shape_str(mask.shape()),
          ", expected ", shape_str(a), b.empty() ? "" : " or " + shape_str(b));
}

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options)
    : Module("MultiheadAttention"),
      embed_dim(embed_dim),
      num_heads(num_heads),
      head_dim(num_heads > 0 ? embed_dim / num_heads : 0),
      dropout(options.dropout),
      batch_first(options.batch_first) {
    check(embed_dim > 0 && num_heads > 0 && head_dim * num_heads == embed_dim, kOp, "embed_dim ", embed_dim,
          " must be a positive multiple of num_heads ", num_heads);
    check(dropout >= 0.0 && dropout <= 1.0, kOp, "dropout must be in [0, 1], got ", dropout);
    in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}));  // [3E, E]
    if (options.bias) in_proj_bias = register_parameter("in_proj_bias", empty({3 * embed_dim}));  // [3E]
    out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, options.bias));
    reset_parameters();
}

void MultiheadAttention::reset_parameters(Generator* gen) {
    init::xavier_uniform_(in_proj_weight, 1.0, gen);
    out_proj->reset_parameters(gen);
    if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
    if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

Tensor MultiheadAttention::forward(const Tensor& x) { return forward(x, x, x, {.need_weights = false}).output; }

// The sizes of a call, after checking every argument's shape and dtype.
MultiheadAttention::Dims MultiheadAttention::check_call(const Tensor& query, const Tensor& key, const Tensor& value,
                                                        const AttentionOptions& options) const {
    check(query.dim() == 3 || query.dim() == 2, kOp, "query must be 3-d (batched) or 2-d, got ", describe(query));
    check(key.dim() == query.dim() && key.shape() == value.shape(), kOp, "key ", describe(key), " and value ",
          describe(value), " must have one shape, of query's rank (query ", describe(query), ")");
    Dims d;
    d.batched = query.dim() == 3;
    d.batch_first = d.batched && batch_first;  // unbatched inputs are taken as [L, 1, E], as torch does
    const int64_t t = d.batch_first ? 1 : 0, n = 1 - t;  // the sequence and batch dims
    d.b = d.batched ? query.size(n) : 1;
    d.l = query.size(d.batched ? t : 0);
    d.s = key.size(d.batched ? t : 0);
    check(query.size(-1) == embed_dim && key.size(-1) == embed_dim && (!d.batched || key.size(n) == d.b), kOp,
          "expected query [", d.batch_first ? "B, L" : "L, B", ", ", embed_dim,
          "] and key/value with the same B and E, got ", describe(query), " and ", describe(key));
    check_mask(options.key_padding_mask, "key_padding_mask", d.batched ? Shape{d.b, d.s} : Shape{d.s}, {});
    check_mask(options.attn_mask, "attn_mask", {d.l, d.s}, {d.b * num_heads, d.l, d.s});
    return d;
}

AttentionResult MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                            const AttentionOptions& options) {
    const Dims d = check_call(query, key, value, options);
    const bool bf = d.batch_first;
    const Tensor q_in = d.batched ? query : query.unsqueeze(1), k_in = d.batched ? key : key.unsqueeze(1),
                 v_in = d.batched ? value : value.unsqueeze(1);

    // in-projection; q scaled by 1/sqrt(hd) before the product, as torch
    const Projected p = in_projection(q_in, k_in, v_in, in_proj_weight, in_proj_bias, embed_dim);
    const Tensor q = to_heads(div(p.q, std::sqrt(double(head_dim))), num_heads, bf);  // [B, H, L, hd]
    const Tensor k = to_heads(p.k, num_heads, bf);                                    // [B, H, S, hd]
    const Tensor v = to_heads(p.v, num_heads, bf);                                    // [B, H, S, hd]
    Tensor scores = matmul(q, k.transpose(-1, -2));                                   // [B, H, L, S]
    const Tensor bias = mask_bias(options, d.b, num_heads, d.l, d.s, scores.dtype());
    if (bias.defined()) scores = add(scores, bias);
    Tensor w = bias.defined() ? masked_softmax(scores) : softmax(scores, -1);  // [B, H, L, S]
    if (is_training() && dropout > 0.0) w = attention_dropout(w, dropout);
    const Tensor attended = from_heads(matmul(w, v), bf);  // [B, H, L, hd] -> [L, B, E] or [B, L, E]
    AttentionResult result{(*out_proj)(attended), Tensor()};
    if (options.need_weights) result.weights = options.average_attn_weights ? mean(w, {1}) : w;
    if (!d.batched) {
        result.output = result.output.squeeze(1);
        if (result.weights.defined()) result.weights = result.weights.squeeze(0);
    }
    return result;
}

Tensor causal_mask(int64_t length) {
    check(length >= 0, "causal_mask", "length must be non-negative, got ", length);
    const Tensor i = arange(length).unsqueeze(1), j = arange(length).unsqueeze(0);
    return gt(j, i);  // [L, L]: key j lies in query i's future
}

}  // namespace graft::nn
