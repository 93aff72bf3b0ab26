// sentence-transformers' Pooling and Normalize modules (see sentence_embedding.h),
// checked against sentence-transformers 2.2.2 (models/Pooling.py, Normalize.py).
#include "nn/models/sentence_embedding.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/ops/binary.h"
#include "core/ops/indexing.h"
#include "core/ops/join.h"
#include "core/ops/matmul.h"
#include "core/ops/reduction.h"
#include "core/ops/unary.h"
#include "nn/models/bert.h"

namespace graft::nn::models {

namespace {

constexpr const char* kOp = "SentencePooling";

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    check(bool(in), kOp, "cannot open '", path, "'");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::exception& e) {
        throw Error(cat_str(kOp, ": ", path, " is not valid JSON: ", e.what()));
    }
}

template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& field, const std::string& source) {
    if (!j.contains(key) || j[key].is_null()) return;
    try {
        field = j[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(cat_str(kOp, ": ", source, ": \"", key, "\" has the wrong type (", j[key].dump(), ")"));
    }
}

// The type names sentence-transformers writes into modules.json.
constexpr const char* kTransformer = "sentence_transformers.models.Transformer";
constexpr const char* kPooling = "sentence_transformers.models.Pooling";
constexpr const char* kNormalize = "sentence_transformers.models.Normalize";

}  // namespace

SentencePooling SentencePooling::from_pooling_json(const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(cat_str(kOp, ": ", source, " is not valid JSON: ", e.what()));
    }
    check(j.is_object(), kOp, source, " must hold a JSON object");
    SentencePooling p;
    p.mean_tokens = false;  // the file says which modes are on
    read_field(j, "word_embedding_dimension", p.word_embedding_dimension, source);
    read_field(j, "pooling_mode_cls_token", p.cls_token, source);
    read_field(j, "pooling_mode_max_tokens", p.max_tokens, source);
    read_field(j, "pooling_mode_mean_tokens", p.mean_tokens, source);
    read_field(j, "pooling_mode_mean_sqrt_len_tokens", p.mean_sqrt_len_tokens, source);
    for (const char* unsupported : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"}) {
        bool on = false;
        read_field(j, unsupported, on, source);
        check(!on, kOp, source, ": ", unsupported, " is not supported (cls, max, mean, mean_sqrt_len are)");
    }
    try {
        p.validate();
    } catch (const Error& e) {
        throw Error(cat_str(e.what(), " (in ", source, ")"));
    }
    return p;
}

SentencePooling SentencePooling::from_folder(const std::string& dir) {
    namespace fs = std::filesystem;
    const std::string modules_path = (fs::path(dir) / "modules.json").string();
    const nlohmann::json modules = read_json(modules_path);
    check(modules.is_array() && !modules.empty(), kOp, modules_path, " must hold a non-empty list of modules");
    std::string pooling_dir;
    bool normalize = false;
    for (size_t i = 0; i < modules.size(); ++i) {
        const nlohmann::json& m = modules[i];
        std::string type, path;
        read_field(m, "type", type, modules_path);
        read_field(m, "path", path, modules_path);
        if (i == 0) {
            check(type == kTransformer, kOp, modules_path, ": module 0 is \"", type, "\", expected ", kTransformer);
        } else if (type == kPooling && pooling_dir.empty() && !normalize) {
            pooling_dir = path;
        } else if (type == kNormalize && !pooling_dir.empty() && i == modules.size() - 1) {
            normalize = true;
        } else {
            throw Error(cat_str(kOp, ": ", modules_path, ": module ", i, " \"", type,
                                "\" is not supported here (only Transformer, Pooling, then an optional final Normalize)"));
        }
    }
    check(!pooling_dir.empty(), kOp, modules_path, " has no ", kPooling, " module");

    const std::string pooling_path = (fs::path(dir) / pooling_dir / "config.json").string();
    std::ifstream in(pooling_path);
    check(bool(in), kOp, "cannot open '", pooling_path, "' (the Pooling module's config)");
    std::stringstream ss;
    ss << in.rdbuf();
    SentencePooling p = from_pooling_json(ss.str(), pooling_path);
    p.normalize = normalize;

    const fs::path bert_config = fs::path(dir) / "sentence_bert_config.json";
    if (fs::exists(bert_config)) {
        const nlohmann::json j = read_json(bert_config.string());
        read_field(j, "max_seq_length", p.max_seq_length, bert_config.string());
        read_field(j, "do_lower_case", p.do_lower_case, bert_config.string());
    }
    try {
        p.validate();
    } catch (const Error& e) {
        throw Error(cat_str(e.what(), " (in ", dir, ")"));
    }
    return p;
}

void SentencePooling::validate() const {
    check(cls_token || max_tokens || mean_tokens || mean_sqrt_len_tokens, kOp,
          "no pooling mode is enabled (cls_token, max_tokens, mean_tokens, mean_sqrt_len_tokens)");
    check(max_seq_length > 0, kOp, "max_seq_length must be positive, got ", max_seq_length);
    check(word_embedding_dimension >= 0, kOp, "word_embedding_dimension must not be negative, got ",
          word_embedding_dimension);
}

int64_t SentencePooling::output_dim(int64_t hidden) const {
    return hidden * (int64_t(cls_token) + int64_t(max_tokens) + int64_t(mean_tokens) + int64_t(mean_sqrt_len_tokens));
}

Tensor sentence_embedding(const Tensor& hidden, const Tensor& attention_mask, const SentencePooling& pooling) {
    pooling.validate();
    check(hidden.dim() == 3 && is_floating(hidden.dtype()), "sentence_embedding",
          "expects hidden [B, T, H] floating, got ", describe(hidden));
    const int64_t b = hidden.size(0), t = hidden.size(1), h = hidden.size(2);
    check(attention_mask.shape() == Shape{b, t}, "sentence_embedding", "attention_mask must be [", b, ", ", t,
          "] like hidden ", describe(hidden), ", got ", describe(attention_mask));
    check(pooling.word_embedding_dimension == 0 || pooling.word_embedding_dimension == h, "sentence_embedding",
          "the pooling config says word_embedding_dimension ", pooling.word_embedding_dimension,
          " but hidden is ", describe(hidden));
    const Tensor m = attention_mask.to(hidden.dtype()).unsqueeze(-1);  // [B, T, 1]
    std::vector<Tensor> parts;
    if (pooling.cls_token) parts.push_back(hidden.select(1, 0));
    if (pooling.max_tokens) {
        // -1e9 at padding, as sentence-transformers (not -inf: an all-padding row stays finite).
        const Tensor masked = masked_fill(hidden, eq(m, 0.0), -1e9);
        parts.push_back(max(masked, 1).values);
    }
    if (pooling.mean_tokens || pooling.mean_sqrt_len_tokens) {
        const Tensor summed = (hidden * m).sum({1});                    // [B, H]
        const Tensor counts = clamp(m.sum({1}), 1e-9, std::nullopt);   // [B, 1]
        if (pooling.mean_tokens) parts.push_back(summed / counts);
        if (pooling.mean_sqrt_len_tokens) parts.push_back(summed / sqrt(counts));
    }
    const Tensor pooled = parts.size() == 1 ? parts[0] : cat(parts, 1);
    return pooling.normalize ? l2_normalize(pooled) : pooled;
}

Tensor cosine_similarity_matrix(const Tensor& a, const Tensor& b) {
    check(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1), "cosine_similarity_matrix",
          "expects [N, D] and [M, D], got ", describe(a), " and ", describe(b));
    return matmul(l2_normalize(a), l2_normalize(b).transpose(0, 1));
}

}  // namespace graft::nn::models
