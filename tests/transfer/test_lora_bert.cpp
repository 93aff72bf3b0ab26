// LoRA on a tiny BERT (nn/models/bert.h): query and value of every layer get
// adapters, everything else is frozen, and a few AdamW steps on random data
// lower the loss. Also: the wrapped paths, the trainable count, the start
// equal to the base model, and that merging keeps the trained output.
#include <catch2/catch.hpp>

#include "graft.h"
#include "nn/models/bert.h"
#include "nn/optim/adamw.h"
#include "tests/support/fixtures.h"
#include "transfer/lora.h"

using namespace graft;
using testing::rel_err;

TEST_CASE("LoRA on BERT query/value: only adapters train and the loss drops", "[lora][bert]") {
    nn::models::BertConfig cfg;
    cfg.vocab_size = 40;
    cfg.hidden_size = 16;
    cfg.num_hidden_layers = 2;
    cfg.num_attention_heads = 2;
    cfg.intermediate_size = 32;
    cfg.max_position_embeddings = 16;
    cfg.hidden_dropout_prob = 0.0;
    cfg.attention_probs_dropout_prob = 0.0;
    cfg.add_pooling_layer = false;
    Generator g(11);
    auto bert = std::make_shared<nn::models::BertModel>(cfg, &g);

    const Tensor ids = (rand({4, 8}, DType::Float32, &g) * double(cfg.vocab_size - 1)).to(DType::Int64);
    const Tensor target = randn({4, 8, cfg.hidden_size}, DType::Float32, &g);
    const Tensor base_out = bert->forward(ids).detach();

    const auto wrapped = transfer::apply_lora(
        *bert, {.rank = 4, .alpha = 8, .dropout = 0.1, .target_modules = {"*query", "*value"}, .gen = &g,
                .freeze_base_model = true});
    CHECK(wrapped == std::vector<std::string>{"encoder.layer.0.attention.self.query",
                                              "encoder.layer.0.attention.self.value",
                                              "encoder.layer.1.attention.self.query",
                                              "encoder.layer.1.attention.self.value"});
    // 4 layers x r (in + out) = 4 x 4 x (16 + 16)
    CHECK(bert->num_parameters(/*trainable_only=*/true) == 4 * 4 * (16 + 16));
    bert->eval();
    CHECK(rel_err(bert->forward(ids).detach(), base_out) == 0.0);
    bert->train();

    optim::AdamW opt(transfer::lora_parameters(*bert), {.lr = 1e-2, .weight_decay = 0.0});
    std::vector<float> losses;
    for (int step = 0; step < 15; ++step) {
        const Tensor loss = mse_loss(bert->forward(ids), target);
        opt.zero_grad();
        loss.backward();
        opt.step();
        losses.push_back(loss.item<float>());
    }
    INFO("first loss " << losses.front() << ", last " << losses.back());
    CHECK(losses.back() < losses.front() * 0.98f);
    for (auto& [name, p] : bert->named_parameters()) {
        INFO(name);
        CHECK(p.grad().defined() == (name.find(".lora_") != std::string::npos));
    }

    bert->eval();
    const Tensor trained = bert->forward(ids).detach();
    CHECK(rel_err(trained, base_out) > 1e-4);
    transfer::merge_lora(*bert);
    CHECK(rel_err(bert->forward(ids).detach(), trained) <= 1e-5);
}
