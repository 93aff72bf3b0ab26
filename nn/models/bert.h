// BERT encoder with Hugging Face transformers' BertModel names, configured from
// a config.json, so that a BertModel checkpoint (all-MiniLM-L6-v2, or the
// "bert."-prefixed part of a BertForPreTraining file) loads by name:
//
//   auto cfg = nn::models::BertConfig::from_file("all-MiniLM-L6-v2/config.json");
//   auto bert = std::make_shared<nn::models::BertModel>(cfg);
//   transfer::load_pretrained(*bert, "model.safetensors", transfer::bert_load_options());
//   Tensor h = bert->forward(ids, type_ids, mask);             // [B, T, H]
//   Tensor e = nn::models::l2_normalize(nn::models::mean_pool(h, mask));  // sentence embeddings
//
// Tree (state_dict order, FORMATS.md 4c):
//   embeddings.{word_embeddings, position_embeddings, token_type_embeddings, LayerNorm}
//   encoder.layer.{i}.attention.self.{query,key,value}
//   encoder.layer.{i}.attention.output.{dense, LayerNorm}
//   encoder.layer.{i}.intermediate.dense
//   encoder.layer.{i}.output.{dense, LayerNorm}
//   pooler.dense                       (only with add_pooling_layer)
// Post-LN: each sub-layer is LayerNorm(x + dropout(sublayer(x))). Attention is
// softmax(QK^T / sqrt(head_dim) + bias), where bias is 0 at attended keys and
// the dtype's lowest value at padding (attention_mask 0), as transformers
// (a row with every key masked therefore attends uniformly, as there).
// Activation: hidden_act "gelu" (exact, erf) or "gelu_new" / "gelu_pytorch_tanh"
// (tanh form), "relu". Positions are 0..T-1 (absolute embeddings only); an
// "embeddings.position_ids" entry in old files is a constant, skipped by
// transfer::bert_load_options() (which also strips "bert." and skips "cls.*").
// Init as transformers: Linear and Embedding weights N(0, initializer_range),
// biases 0, LayerNorm 1/0, the padding row zero.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/ops/random.h"
#include "nn/layers/container.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/module.h"

namespace graft::nn::models {

struct BertConfig {
    int64_t vocab_size = 30522;
    int64_t hidden_size = 768;
    int64_t num_hidden_layers = 12;
    int64_t num_attention_heads = 12;
    int64_t intermediate_size = 3072;
    std::string hidden_act = "gelu";
    double hidden_dropout_prob = 0.1;
    double attention_probs_dropout_prob = 0.1;
    int64_t max_position_embeddings = 512;
    int64_t type_vocab_size = 2;
    double initializer_range = 0.02;
    double layer_norm_eps = 1e-12;
    int64_t pad_token_id = 0;
    bool add_pooling_layer = true;  // not a config.json key: whether pooler.dense exists

    // The keys above from a transformers config.json text (missing keys keep
    // the defaults; position_embedding_type other than "absolute" is refused).
    static BertConfig from_json(const std::string& text, const std::string& source = "config.json");
    static BertConfig from_file(const std::string& path);
    // Throws Error naming the bad field.
    void validate() const;
};

class BertEmbeddings : public Module {
public:
    using Module::forward;  // the single-tensor form stays callable (and throws)
    BertEmbeddings(const BertConfig& config, Generator* gen);
    // input_ids [B, T] int64, token_type_ids [B, T] int64 (undefined: zeros) -> [B, T, H]
    Tensor forward(const Tensor& input_ids, const Tensor& token_type_ids);

    std::shared_ptr<Embedding> word_embeddings, position_embeddings, token_type_embeddings;
    std::shared_ptr<nn::LayerNorm> layer_norm;  // "LayerNorm"
    std::shared_ptr<Dropout> dropout;
};

class BertSelfAttention : public Module {
public:
    using Module::forward;  // the single-tensor form stays callable (and throws)
    BertSelfAttention(const BertConfig& config, Generator* gen);
    // h [B, T, H], bias [B, 1, 1, T] additive (or undefined) -> context [B, T, H]
    Tensor forward(const Tensor& h, const Tensor& bias);

    const int64_t num_heads;
    const int64_t head_dim;
    std::shared_ptr<Linear> query, key, value;
    std::shared_ptr<Dropout> dropout;
};

// dense, dropout, LayerNorm(. + residual): BertSelfOutput and BertOutput.
class BertResidualOutput : public Module {
public:
    using Module::forward;  // the single-tensor form stays callable (and throws)
    BertResidualOutput(std::string type_name, int64_t in, const BertConfig& config, Generator* gen);
    Tensor forward(const Tensor& h, const Tensor& residual);

    std::shared_ptr<Linear> dense;
    std::shared_ptr<nn::LayerNorm> layer_norm;  // "LayerNorm"
    std::shared_ptr<Dropout> dropout;
};

// "attention": children "self" and "output".
class BertAttention : public Module {
public:
    using Module::forward;  // the single-tensor form stays callable (and throws)
    BertAttention(const BertConfig& config, Generator* gen);
    Tensor forward(const Tensor& h, const Tensor& bias);

    std::shared_ptr<BertSelfAttention> self;
    std::shared_ptr<BertResidualOutput> output;
};

class BertIntermediate : public Module {
public:
    BertIntermediate(const BertConfig& config, Generator* gen);
    Tensor forward(const Tensor& h) override;  // act(dense(h))

    std::shared_ptr<Linear> dense;
    const std::string hidden_act;
};

class BertLayer : public Module {
public:
    using Module::forward;  // the single-tensor form stays callable (and throws)
    BertLayer(const BertConfig& config, Generator* gen);
    Tensor forward(const Tensor& h, const Tensor& bias);

    std::shared_ptr<BertAttention> attention;
    std::shared_ptr<BertIntermediate> intermediate;
    std::shared_ptr<BertResidualOutput> output;
};

class BertEncoder : public Module {
public:
    using Module::forward;  // the single-tensor form stays callable (and throws)
    BertEncoder(const BertConfig& config, Generator* gen);
    Tensor forward(const Tensor& h, const Tensor& bias);

    std::shared_ptr<ModuleList> layer;
};

class BertPooler : public Module {
public:
    BertPooler(const BertConfig& config, Generator* gen);
    Tensor forward(const Tensor& last_hidden_state) override;  // tanh(dense(h[:, 0]))

    std::shared_ptr<Linear> dense;
};

class BertModel : public Module {
public:
    explicit BertModel(const BertConfig& config, Generator* gen = nullptr);
    // input_ids [B, T] int64; token_type_ids and attention_mask [B, T] (int64 or
    // float 1/0, or bool true = attend), undefined: zeros / all ones.
    // Returns last_hidden_state [B, T, H].
    Tensor forward(const Tensor& input_ids, const Tensor& token_type_ids, const Tensor& attention_mask);
    Tensor forward(const Tensor& input_ids) override { return forward(input_ids, Tensor(), Tensor()); }
    // tanh(pooler.dense(hidden[:, 0])) -> [B, H]; needs add_pooling_layer.
    Tensor pool(const Tensor& last_hidden_state);

    const BertConfig config;
    std::shared_ptr<BertEmbeddings> embeddings;
    std::shared_ptr<BertEncoder> encoder;
    std::shared_ptr<BertPooler> pooler;  // null without add_pooling_layer
};

// Sentence-transformers' mean pooling: the average of the token vectors where
// attention_mask is 1. hidden [B, T, H], attention_mask [B, T] -> [B, H].
Tensor mean_pool(const Tensor& hidden, const Tensor& attention_mask);
// x / max(||x||_2, eps) along the last dim (torch.nn.functional.normalize).
Tensor l2_normalize(const Tensor& x, double eps = 1e-12);

}  // namespace graft::nn::models
