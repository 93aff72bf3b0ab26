// Embedding over the embedding op (core/ops/nn_ops.h).
#include "nn/layers/embedding.h"

#include "core/autograd/grad_mode.h"
#include "core/ops/creation.h"
#include "core/ops/nn_ops.h"

namespace graft::nn {

namespace {

std::optional<int64_t> wrap_padding(std::optional<int64_t> padding_idx, int64_t num_embeddings) {
    if (!padding_idx) return padding_idx;
    check(*padding_idx >= -num_embeddings && *padding_idx < num_embeddings, "Embedding", "padding_idx ",
          *padding_idx, " must be within num_embeddings ", num_embeddings);
    return *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
}

}  // namespace

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx)
    : Module("Embedding"), num_embeddings(num_embeddings), embedding_dim(embedding_dim),
      padding_idx(wrap_padding(padding_idx, num_embeddings)) {
    check(num_embeddings >= 0 && embedding_dim >= 0, "Embedding", "sizes must be non-negative, got ",
          num_embeddings, " x ", embedding_dim);
    weight = register_parameter("weight", empty({num_embeddings, embedding_dim}));
    reset_parameters();
}

void Embedding::reset_parameters(Generator* gen) {
    NoGradGuard no_grad;
    normal_(weight, 0.0, 1.0, gen);
    if (padding_idx) weight.select(0, *padding_idx).zero_();
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(weight, indices, padding_idx); }

std::string Embedding::extra_repr() const {
    std::string s = cat_str(num_embeddings, ", ", embedding_dim);
    if (padding_idx) s += cat_str(", padding_idx=", *padding_idx);
    return s;
}

}  // namespace graft::nn
