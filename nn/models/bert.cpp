// BERT encoder, built in transformers' order (see bert.h).
#include "nn/models/bert.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/autograd/grad_mode.h"
#include "core/ops/activation.h"
#include "core/ops/creation.h"
#include "core/ops/matmul.h"
#include "core/ops/softmax.h"
#include "core/ops/unary.h"
#include "core/ops/views.h"

namespace graft::nn::models {

namespace {

constexpr const char* kOp = "BertModel";

// transformers' _init_weights for the layers this file creates.
void init_linear(Linear& l, double range, Generator* gen) {
    normal_(l.weight, 0.0, range, gen);
    if (l.bias.defined()) l.bias.zero_();
}

std::shared_ptr<Linear> make_linear(int64_t in, int64_t out, double range, Generator* gen) {
    auto l = std::make_shared<Linear>(in, out);
    NoGradGuard no_grad;
    init_linear(*l, range, gen);
    return l;
}

std::shared_ptr<Embedding> make_embedding(int64_t n, int64_t dim, std::optional<int64_t> pad, double range,
                                          Generator* gen) {
    auto e = std::make_shared<Embedding>(n, dim, pad);
    NoGradGuard no_grad;
    normal_(e->weight, 0.0, range, gen);
    if (pad) e->weight.select(0, *pad).zero_();
    return e;
}

Tensor activation(const Tensor& x, const std::string& act) {
    if (act == "gelu") return gelu(x, GeluApproximation::None);
    if (act == "gelu_new" || act == "gelu_pytorch_tanh") return gelu(x, GeluApproximation::Tanh);
    return relu(x);  // validate() allows only these
}

// attention_mask [B, T] -> additive bias [B, 1, 1, T]: 0 where attended, the
// dtype's lowest value at padding (transformers' extended attention mask).
Tensor mask_bias(const Tensor& mask, int64_t b, int64_t t, DType dtype) {
    check(mask.shape() == Shape{b, t}, kOp, "attention_mask must be [", b, ", ", t, "] like input_ids, got ",
          describe(mask));
    const double lowest = dtype == DType::Float64 ? std::numeric_limits<double>::lowest()
                                                  : double(std::numeric_limits<float>::lowest());
    const Tensor m = mask.to(dtype);
    return ((1.0 - m) * lowest).reshape({b, 1, 1, t});
}

}  // namespace

// ---- config ------------------------------------------------------------------------------

BertConfig BertConfig::from_json(const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(cat_str("BertConfig: ", source, " is not valid JSON: ", e.what()));
    }
    check(j.is_object(), "BertConfig", source, " must hold a JSON object");
    BertConfig c;
    auto read = [&](const char* key, auto& field) {
        if (!j.contains(key) || j[key].is_null()) return;
        try {
            field = j[key].get<std::decay_t<decltype(field)>>();
        } catch (const nlohmann::json::exception&) {
            throw Error(cat_str("BertConfig: ", source, ": \"", key, "\" has the wrong type (", j[key].dump(), ")"));
        }
    };
    read("vocab_size", c.vocab_size);
    read("hidden_size", c.hidden_size);
    read("num_hidden_layers", c.num_hidden_layers);
    read("num_attention_heads", c.num_attention_heads);
    read("intermediate_size", c.intermediate_size);
    read("hidden_act", c.hidden_act);
    read("hidden_dropout_prob", c.hidden_dropout_prob);
    read("attention_probs_dropout_prob", c.attention_probs_dropout_prob);
    read("max_position_embeddings", c.max_position_embeddings);
    read("type_vocab_size", c.type_vocab_size);
    read("initializer_range", c.initializer_range);
    read("layer_norm_eps", c.layer_norm_eps);
    read("pad_token_id", c.pad_token_id);
    std::string position = "absolute";
    read("position_embedding_type", position);
    check(position == "absolute", "BertConfig", source, ": position_embedding_type \"", position,
          "\" is not supported (only \"absolute\")");
    try {
        c.validate();
    } catch (const Error& e) {
        throw Error(cat_str(e.what(), " (in ", source, ")"));
    }
    return c;
}

BertConfig BertConfig::from_file(const std::string& path) {
    std::ifstream in(path);
    check(bool(in), "BertConfig", "cannot open '", path, "'");
    std::stringstream ss;
    ss << in.rdbuf();
    return from_json(ss.str(), path);
}

void BertConfig::validate() const {
    check(vocab_size > 0 && hidden_size > 0 && num_hidden_layers >= 0 && num_attention_heads > 0 &&
              intermediate_size > 0 && max_position_embeddings > 0 && type_vocab_size > 0,
          "BertConfig", "sizes must be positive: vocab_size ", vocab_size, ", hidden_size ", hidden_size,
          ", num_hidden_layers ", num_hidden_layers, ", num_attention_heads ", num_attention_heads,
          ", intermediate_size ", intermediate_size, ", max_position_embeddings ", max_position_embeddings,
          ", type_vocab_size ", type_vocab_size);
    check(hidden_size % num_attention_heads == 0, "BertConfig", "hidden_size ", hidden_size,
          " is not a multiple of num_attention_heads ", num_attention_heads);
    check(hidden_act == "gelu" || hidden_act == "gelu_new" || hidden_act == "gelu_pytorch_tanh" || hidden_act == "relu",
          "BertConfig", "hidden_act \"", hidden_act, "\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
    check(pad_token_id >= 0 && pad_token_id < vocab_size, "BertConfig", "pad_token_id ", pad_token_id,
          " is outside the vocabulary of ", vocab_size);
    check(hidden_dropout_prob >= 0 && hidden_dropout_prob < 1 && attention_probs_dropout_prob >= 0 &&
              attention_probs_dropout_prob < 1,
          "BertConfig", "dropout probabilities must be in [0, 1)");
    check(layer_norm_eps > 0, "BertConfig", "layer_norm_eps must be positive, got ", layer_norm_eps);
}

// ---- layers -------------------------------------------------------------------------------

BertEmbeddings::BertEmbeddings(const BertConfig& c, Generator* gen) : Module("BertEmbeddings") {
    word_embeddings = register_module(
        "word_embeddings", make_embedding(c.vocab_size, c.hidden_size, c.pad_token_id, c.initializer_range, gen));
    position_embeddings = register_module(
        "position_embeddings",
        make_embedding(c.max_position_embeddings, c.hidden_size, std::nullopt, c.initializer_range, gen));
    token_type_embeddings = register_module(
        "token_type_embeddings", make_embedding(c.type_vocab_size, c.hidden_size, std::nullopt, c.initializer_range, gen));
    layer_norm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(Shape{c.hidden_size}, c.layer_norm_eps));
    dropout = register_module("dropout", std::make_shared<Dropout>(c.hidden_dropout_prob));
}

Tensor BertEmbeddings::forward(const Tensor& input_ids, const Tensor& token_type_ids) {
    check(input_ids.dim() == 2 && input_ids.dtype() == DType::Int64, kOp, "input_ids must be int64 [B, T], got ",
          describe(input_ids));
    const int64_t b = input_ids.size(0), t = input_ids.size(1);
    check(t <= position_embeddings->num_embeddings, kOp, "sequence length ", t, " exceeds max_position_embeddings ",
          position_embeddings->num_embeddings);
    Tensor types = token_type_ids.defined() ? token_type_ids : zeros({b, t}, DType::Int64, input_ids.device());
    check(types.shape() == input_ids.shape() && types.dtype() == DType::Int64, kOp,
          "token_type_ids must be int64 like input_ids ", shape_str(input_ids.shape()), ", got ", describe(types));
    const Tensor positions = arange(0, t, 1, DType::Int64);
    Tensor h = (*word_embeddings)(input_ids) + (*token_type_embeddings)(types);
    h = h + (*position_embeddings)(input_ids.device() == positions.device() ? positions : positions.to(input_ids.device()));
    return (*dropout)((*layer_norm)(h));
}

BertSelfAttention::BertSelfAttention(const BertConfig& c, Generator* gen)
    : Module("BertSelfAttention"),
      num_heads(c.num_attention_heads),
      head_dim(c.hidden_size / c.num_attention_heads) {
    query = register_module("query", make_linear(c.hidden_size, c.hidden_size, c.initializer_range, gen));
    key = register_module("key", make_linear(c.hidden_size, c.hidden_size, c.initializer_range, gen));
    value = register_module("value", make_linear(c.hidden_size, c.hidden_size, c.initializer_range, gen));
    dropout = register_module("dropout", std::make_shared<Dropout>(c.attention_probs_dropout_prob));
}

Tensor BertSelfAttention::forward(const Tensor& h, const Tensor& bias) {
    const int64_t b = h.size(0), t = h.size(1);
    auto heads = [&](const Tensor& x) { return x.view({b, t, num_heads, head_dim}).permute({0, 2, 1, 3}); };
    const Tensor q = heads((*query)(h)), k = heads((*key)(h)), v = heads((*value)(h));  // [B, nh, T, d]
    Tensor scores = matmul(q, k.transpose(-1, -2)) / std::sqrt(double(head_dim));    // [B, nh, T, T]
    if (bias.defined()) scores = scores + bias;
    const Tensor probs = (*dropout)(softmax(scores, -1));
    return matmul(probs, v).permute({0, 2, 1, 3}).reshape({b, t, num_heads * head_dim});
}

BertResidualOutput::BertResidualOutput(std::string type_name, int64_t in, const BertConfig& c, Generator* gen)
    : Module(std::move(type_name)) {
    dense = register_module("dense", make_linear(in, c.hidden_size, c.initializer_range, gen));
    layer_norm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(Shape{c.hidden_size}, c.layer_norm_eps));
    dropout = register_module("dropout", std::make_shared<Dropout>(c.hidden_dropout_prob));
}

Tensor BertResidualOutput::forward(const Tensor& h, const Tensor& residual) {
    return (*layer_norm)((*dropout)((*dense)(h)) + residual);
}

BertAttention::BertAttention(const BertConfig& c, Generator* gen) : Module("BertAttention") {
    self = register_module("self", std::make_shared<BertSelfAttention>(c, gen));
    output = register_module("output", std::make_shared<BertResidualOutput>("BertSelfOutput", c.hidden_size, c, gen));
}

Tensor BertAttention::forward(const Tensor& h, const Tensor& bias) { return output->forward(self->forward(h, bias), h); }

BertIntermediate::BertIntermediate(const BertConfig& c, Generator* gen)
    : Module("BertIntermediate"), hidden_act(c.hidden_act) {
    dense = register_module("dense", make_linear(c.hidden_size, c.intermediate_size, c.initializer_range, gen));
}

Tensor BertIntermediate::forward(const Tensor& h) { return activation((*dense)(h), hidden_act); }

BertLayer::BertLayer(const BertConfig& c, Generator* gen) : Module("BertLayer") {
    attention = register_module("attention", std::make_shared<BertAttention>(c, gen));
    intermediate = register_module("intermediate", std::make_shared<BertIntermediate>(c, gen));
    output = register_module("output", std::make_shared<BertResidualOutput>("BertOutput", c.intermediate_size, c, gen));
}

Tensor BertLayer::forward(const Tensor& h, const Tensor& bias) {
    const Tensor a = attention->forward(h, bias);
    return output->forward((*intermediate)(a), a);
}

BertEncoder::BertEncoder(const BertConfig& c, Generator* gen) : Module("BertEncoder") {
    layer = register_module("layer", std::make_shared<ModuleList>());
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(std::make_shared<BertLayer>(c, gen));
}

Tensor BertEncoder::forward(const Tensor& h, const Tensor& bias) {
    Tensor x = h;
    for (size_t i = 0; i < layer->size(); ++i) x = layer->at<BertLayer>(int64_t(i))->forward(x, bias);
    return x;
}

BertPooler::BertPooler(const BertConfig& c, Generator* gen) : Module("BertPooler") {
    dense = register_module("dense", make_linear(c.hidden_size, c.hidden_size, c.initializer_range, gen));
}

Tensor BertPooler::forward(const Tensor& h) {
    check(h.dim() == 3, "BertPooler", "expects last_hidden_state [B, T, H], got ", describe(h));
    return tanh((*dense)(h.select(1, 0)));
}

BertModel::BertModel(const BertConfig& config_, Generator* gen) : Module("BertModel"), config(config_) {
    config.validate();
    embeddings = register_module("embeddings", std::make_shared<BertEmbeddings>(config, gen));
    encoder = register_module("encoder", std::make_shared<BertEncoder>(config, gen));
    if (config.add_pooling_layer) pooler = register_module("pooler", std::make_shared<BertPooler>(config, gen));
}

Tensor BertModel::forward(const Tensor& input_ids, const Tensor& token_type_ids, const Tensor& attention_mask) {
    Tensor h = embeddings->forward(input_ids, token_type_ids);
    const Tensor bias = attention_mask.defined()
                            ? mask_bias(attention_mask, input_ids.size(0), input_ids.size(1), h.dtype())
                            : Tensor();
    return encoder->forward(h, bias);
}

Tensor BertModel::pool(const Tensor& last_hidden_state) {
    check(pooler != nullptr, kOp, "pool() needs the pooling layer (config.add_pooling_layer)");
    return (*pooler)(last_hidden_state);
}

Tensor mean_pool(const Tensor& hidden, const Tensor& attention_mask) {
    check(hidden.dim() == 3 && attention_mask.shape() == Shape{hidden.size(0), hidden.size(1)}, "mean_pool",
          "expects hidden [B, T, H] and attention_mask [B, T], got ", describe(hidden), " and ",
          describe(attention_mask));
    const Tensor m = attention_mask.to(hidden.dtype()).unsqueeze(-1);  // [B, T, 1]
    const Tensor counts = clamp(m.sum({1}), 1e-9, std::nullopt);       // [B, 1], as sentence-transformers
    return (hidden * m).sum({1}) / counts;
}

Tensor l2_normalize(const Tensor& x, double eps) {
    check(x.dim() >= 1, "l2_normalize", "expects at least one dimension, got ", describe(x));
    const Tensor norm = clamp(sqrt((x * x).sum({-1}, true)), eps, std::nullopt);
    return x / norm;
}

}  // namespace graft::nn::models
