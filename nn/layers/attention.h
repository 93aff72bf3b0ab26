// MultiheadAttention, as torch.nn.MultiheadAttention (1.13), with its
// parameter names, init, mask conventions and outputs:
//
//   auto attn = std::make_shared<nn::MultiheadAttention>(64, 4, nn::MultiheadAttentionOptions{.batch_first = true});
//   auto [y, w] = attn->forward(x, x, x, {.key_padding_mask = pad, .attn_mask = nn::causal_mask(L)});
//   // x [B, L, 64] -> y [B, L, 64], w [B, L, L] (averaged over the 4 heads)
//
// Parameters: "in_proj_weight" [3E, E] (rows q, k, v), "in_proj_bias" [3E],
// and the Linear child "out_proj" ("out_proj.weight" [E, E], "out_proj.bias").
// Init as torch: xavier_uniform_ on in_proj_weight, zero biases, out_proj's
// weight with Linear's default rule. Key and value have embed_dim features
// (torch's kdim/vdim, add_bias_kv and add_zero_attn are not offered).
//
// Letters: B batch, L target (query) length, S source (key) length, E
// embed_dim, H heads, hd = E / H.
//
// Masks follow torch: bool true = do not attend; float = added to the scores.
// A query row whose every key is masked gives NaN in torch; here it gets all-zero
// attention weights, so its output is out_proj's bias alone, and its gradients
// are zero instead of NaN. Printed as torch prints it: no arguments, the out_proj child.
#pragma once

#include <cstdint>
#include <memory>

#include "core/ops/random.h"
#include "nn/layers/linear.h"
#include "nn/module.h"

namespace graft::nn {

struct MultiheadAttentionOptions {
    double dropout = 0.0;      // on the attention weights, in training mode
    bool bias = true;          // in_proj_bias and out_proj.bias
    bool batch_first = false;  // inputs [B, L, E] instead of [L, B, E]
};

// The optional arguments of MultiheadAttention::forward, in torch's terms.
struct AttentionOptions {
    Tensor key_padding_mask{};        // [B, S] ([S] unbatched): bool (true = padding) or float (added)
    Tensor attn_mask{};               // [L, S] or [B*H, L, S]: bool (true = masked) or float (added)
    bool need_weights = true;         // return the attention weights
    bool average_attn_weights = true; // average them over heads
};

struct AttentionResult {
    Tensor output;   // like query: [L, B, E], [B, L, E] with batch_first, [L, E] unbatched
    Tensor weights;  // [B, L, S] averaged or [B, H, L, S] per head (no B unbatched); undefined without need_weights
};

class MultiheadAttention : public Module {
public:
    MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options = {});

    // query [L, B, E] (or [B, L, E] with batch_first, or [L, E] unbatched);
    // key and value [S, B, E] likewise.
    AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value,
                            const AttentionOptions& options = {});
    // Self-attention without masks, output only (for Sequential and hooks).
    Tensor forward(const Tensor& x) override;
    void reset_parameters(Generator* gen = nullptr);

    const int64_t embed_dim;
    const int64_t num_heads;
    const int64_t head_dim;
    const double dropout;
    const bool batch_first;
    Tensor in_proj_weight;  // [3E, E]
    Tensor in_proj_bias;    // [3E], undefined without bias
    std::shared_ptr<Linear> out_proj;

private:
    struct Dims {
        bool batched, batch_first;
        int64_t b, l, s;
    };
    Dims check_call(const Tensor& query, const Tensor& key, const Tensor& value,
                    const AttentionOptions& options) const;
};

// A bool [L, L] mask, true above the diagonal: position i attends to 0..i only.
// (torch's Transformer.generate_square_subsequent_mask is the float form, -inf
// where this is true.)
Tensor causal_mask(int64_t length);

}  // namespace graft::nn
