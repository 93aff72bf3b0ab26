// Embedding as torch.nn.Embedding: a lookup table weight [num_embeddings,
// embedding_dim], initialised N(0, 1) as torch does, with the padding_idx row
// zeroed and excluded from gradients.
//
//   auto emb = std::make_shared<nn::Embedding>(30522, 384, 0);  // padding_idx 0
//   Tensor h = (*emb)(token_ids);                                // int64 [B, T] -> [B, T, 384]
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/ops/random.h"
#include "nn/module.h"

namespace graft::nn {

class Embedding : public Module {
public:
    // A negative padding_idx counts from the end, as torch.
    Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = std::nullopt);
    // indices int64 [...] -> [..., embedding_dim]
    Tensor forward(const Tensor& indices) override;
    std::string extra_repr() const override;  // "30522, 384, padding_idx=0"
    // N(0, 1) from `gen` (or the default generator), then the padding row zeroed.
    void reset_parameters(Generator* gen = nullptr);

    const int64_t num_embeddings;
    const int64_t embedding_dim;
    const std::optional<int64_t> padding_idx;  // wrapped into [0, num_embeddings)
    Tensor weight;                             // [num_embeddings, embedding_dim]
};

}  // namespace graft::nn
