// Sentence embeddings as sentence-transformers computes them on top of a
// transformer's token vectors: a Pooling module (mean over the tokens the
// attention mask keeps, CLS, max, mean * sqrt(len)), then optionally a
// Normalize module (L2), as the model folder's modules.json and
// 1_Pooling/config.json say. For all-MiniLM-L6-v2 that is mean pooling then L2
// normalisation:
//
//   auto pooling = nn::models::SentencePooling::from_folder("all-MiniLM-L6-v2");
//   Tensor hidden = bert->forward(batch.input_ids, batch.token_type_ids, batch.attention_mask);
//   Tensor e = nn::models::sentence_embedding(hidden, batch.attention_mask, pooling);  // [B, 384]
//
// Tokenization stays with io::WordPieceTokenizer (io/text): sentence-transformers
// truncates at max_seq_length word pieces (counting [CLS] and [SEP]) and, only when
// do_lower_case is set, lower-cases the text before the tokenizer; callers pass
// those two fields to the tokenizer themselves (nn does not depend on io).
//
// Not here: Dense / LayerNorm / WordEmbeddings modules after pooling (refused
// by from_folder with an Error naming the module), pooling_mode_weightedmean_tokens
// and pooling_mode_lasttoken (refused), prompts.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace graft::nn::models {

struct SentencePooling {
    // 1_Pooling/config.json; the enabled modes are concatenated in
    // sentence-transformers' order: cls, max, mean, mean_sqrt_len.
    int64_t word_embedding_dimension = 0;  // 0: not checked against the hidden size
    bool cls_token = false;
    bool max_tokens = false;
    bool mean_tokens = true;
    bool mean_sqrt_len_tokens = false;
    // modules.json lists sentence_transformers.models.Normalize after the pooling.
    bool normalize = true;
    // sentence_bert_config.json (for the tokenizer; see above).
    int64_t max_seq_length = 512;
    bool do_lower_case = false;

    // Reads <dir>/modules.json, the Pooling module's config.json (its "path" in
    // modules.json) and <dir>/sentence_bert_config.json when present. Errors name
    // the file and the field or module.
    static SentencePooling from_folder(const std::string& dir);
    // The Pooling config's JSON text alone (normalize and the tokenizer fields keep
    // their defaults).
    static SentencePooling from_pooling_json(const std::string& text, const std::string& source = "config.json");
    // At least one mode; positive max_seq_length. Throws Error naming the field.
    void validate() const;
    // Width of the embedding for token vectors of width `hidden`.
    int64_t output_dim(int64_t hidden) const;
};

// hidden [B, T, H] float, attention_mask [B, T] (int64 or float 1/0, or bool)
// -> [B, output_dim(H)], pooled (and L2-normalised when pooling.normalize) as
// sentence-transformers does: mean = sum(h * m) / max(sum(m), 1e-9); max over
// the kept tokens (padding set to -1e9 first); cls = h[:, 0];
// mean_sqrt_len = sum(h * m) / sqrt(max(sum(m), 1e-9)); normalize = x / max(|x|, 1e-12).
Tensor sentence_embedding(const Tensor& hidden, const Tensor& attention_mask, const SentencePooling& pooling);

// Cosine similarity of every row of a [N, D] with every row of b [M, D] -> [N, M]
// (rows normalised with the same 1e-12 floor as above).
Tensor cosine_similarity_matrix(const Tensor& a, const Tensor& b);

}  // namespace graft::nn::models
