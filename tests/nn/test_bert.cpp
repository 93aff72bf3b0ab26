// BertModel: transformers' names and shapes, config.json reading, masks, pooling
// helpers (parity with a torch reference is in tests/transfer/test_zoo_parity.cpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"
#include "nn/models/bert.h"

using namespace graft;
using nn::models::BertConfig;

namespace {

BertConfig tiny() {
    return BertConfig::from_json(R"({"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 24, "max_position_embeddings": 12,
        "hidden_act": "gelu", "layer_norm_eps": 1e-12, "architectures": ["BertModel"]})");
}

}  // namespace

TEST_CASE("bert: transformers' state_dict names and shapes", "[bert]") {
    Generator gen(1);
    nn::models::BertModel bert(tiny(), &gen);
    const NamedTensors sd = bert.state_dict();
    CHECK(sd.size() == 5 + 2 * 16 + 2);
    CHECK(sd.names().front() == "embeddings.word_embeddings.weight");
    CHECK(sd.at("embeddings.word_embeddings.weight").shape() == Shape{50, 16});
    CHECK(sd.at("embeddings.position_embeddings.weight").shape() == Shape{12, 16});
    CHECK(sd.at("embeddings.token_type_embeddings.weight").shape() == Shape{2, 16});
    CHECK(sd.contains("embeddings.LayerNorm.bias"));
    CHECK(sd.at("encoder.layer.1.attention.self.query.weight").shape() == Shape{16, 16});
    CHECK(sd.contains("encoder.layer.1.attention.output.LayerNorm.weight"));
    CHECK(sd.at("encoder.layer.0.intermediate.dense.weight").shape() == Shape{24, 16});
    CHECK(sd.at("encoder.layer.0.output.dense.weight").shape() == Shape{16, 24});
    CHECK(sd.names().back() == "pooler.dense.bias");
    // init: N(0, 0.02), padding row 0
    CHECK(sd.at("embeddings.word_embeddings.weight").select(0, 0).abs().max().item<float>() == 0.0f);
    CHECK(sd.at("encoder.layer.0.output.dense.weight").abs().max().item<float>() < 0.15f);

    BertConfig no_pool = tiny();
    no_pool.add_pooling_layer = false;
    CHECK_FALSE(nn::models::BertModel(no_pool).state_dict().contains("pooler.dense.weight"));
}

TEST_CASE("bert: forward, masks and pooling helpers", "[bert]") {
    Generator gen(2);
    nn::models::BertModel bert(tiny(), &gen);
    bert.eval();
    NoGradGuard no_grad;
    Tensor ids = from_vector<int64_t>({5, 6, 7, 8, 9, 5, 6, 0}, {2, 4});
    Tensor mask = from_vector<int64_t>({1, 1, 1, 1, 1, 1, 0, 0}, {2, 4});
    const Tensor h = bert.forward(ids, Tensor(), mask);
    CHECK(h.shape() == Shape{2, 4, 16});
    CHECK(bert.pool(h).shape() == Shape{2, 16});
    // Padding does not change the unpadded tokens: sample 2 alone, unpadded.
    const Tensor alone = bert.forward(from_vector<int64_t>({9, 5}, {1, 2}));
    const Tensor padded = h.select(0, 1).narrow(0, 0, 2).contiguous();
    const Tensor diff = (alone.select(0, 0) - padded).abs().max();
    CHECK(diff.item<float>() < 1e-5f);

    const Tensor e = nn::models::l2_normalize(nn::models::mean_pool(h, mask));
    CHECK(e.shape() == Shape{2, 16});
    CHECK((e * e).sum({-1}).select(0, 1).item<float>() == Approx(1.0f));

    CHECK_THROWS_WITH(bert.forward(ids.to(DType::Float32)), Catch::Contains("int64"));
    CHECK_THROWS_WITH(bert.forward(ids, Tensor(), mask.narrow(1, 0, 3)), Catch::Contains("attention_mask"));
    CHECK_THROWS_WITH(bert.forward(zeros({1, 13}, DType::Int64)), Catch::Contains("max_position_embeddings"));
}

TEST_CASE("bert: config.json errors name the field", "[bert]") {
    CHECK_THROWS_WITH(BertConfig::from_json("{", "cfg.json"), Catch::Contains("cfg.json") && Catch::Contains("JSON"));
    CHECK_THROWS_WITH(BertConfig::from_json(R"({"hidden_size": "big"})"), Catch::Contains("hidden_size"));
    CHECK_THROWS_WITH(BertConfig::from_json(R"({"hidden_size": 30, "num_attention_heads": 4})"),
                      Catch::Contains("multiple"));
    CHECK_THROWS_WITH(BertConfig::from_json(R"({"hidden_act": "swish"})"), Catch::Contains("swish"));
    CHECK_THROWS_WITH(BertConfig::from_json(R"({"position_embedding_type": "relative_key"})"),
                      Catch::Contains("relative_key"));
    CHECK_THROWS_WITH(BertConfig::from_file("/nonexistent/config.json"), Catch::Contains("cannot open"));
}
