// LoRA on a BERT encoder: adapters on every attention query and value, a small
// classification head, everything else frozen. Then the adapters are saved
// alone (PEFT's key names), loaded into a fresh copy, and merged for inference.
//
//   ids [B, T] -> BertModel (frozen; query/value + LoRA) -> mean pool -> head Linear(H, 2)
//
// The task is synthetic so the example runs anywhere in seconds: a sequence is
// class 1 when it contains token 7. Without --weights the encoder is a small
// randomly initialised BERT; with a transformers checkpoint it is the real one:
//
//   build/examples/lora_bert [--steps 150] [--rank 8] [--out adapter_model.safetensors]
//   build/examples/lora_bert --config all-MiniLM-L6-v2/config.json --weights all-MiniLM-L6-v2/model.safetensors
//
// Expect the trainable share to be a few percent, the loss to fall from ~0.69,
// training accuracy near 100%, and identical logits after reload and merge.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "graft.h"
#include "nn/layers/linear.h"
#include "nn/models/bert.h"
#include "nn/optim/adamw.h"
#include "transfer/load_pretrained.h"
#include "transfer/lora.h"

using namespace graft;

namespace {

struct Options {
    int steps = 150;
    int64_t rank = 8;
    std::string config, weights;
    std::string out = "adapter_model.safetensors";
};

Options parse_args(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        if (!std::strcmp(argv[i], "--steps") && has_value) opt.steps = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--rank") && has_value) opt.rank = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--config") && has_value) opt.config = argv[++i];
        else if (!std::strcmp(argv[i], "--weights") && has_value) opt.weights = argv[++i];
        else if (!std::strcmp(argv[i], "--out") && has_value) opt.out = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--steps N] [--rank R] [--config config.json --weights FILE] [--out FILE]\n",
                         argv[0]);
            std::exit(2);
        }
    }
    return opt;
}

// The encoder, pretrained when asked. The same seed gives the same random encoder twice.
std::shared_ptr<nn::models::BertModel> make_encoder(const Options& opt) {
    nn::models::BertConfig cfg;
    if (!opt.config.empty()) {
        cfg = nn::models::BertConfig::from_file(opt.config);
    } else {
        cfg.vocab_size = 100, cfg.hidden_size = 64, cfg.num_hidden_layers = 2, cfg.num_attention_heads = 4;
        cfg.intermediate_size = 128, cfg.max_position_embeddings = 64;
    }
    Generator gen(2024);
    auto bert = std::make_shared<nn::models::BertModel>(cfg, &gen);
    if (!opt.weights.empty())
        transfer::load_pretrained(*bert, opt.weights, {.strict = false, .strip_prefixes = {"bert."}, .skip = {"cls.*"}});
    return bert;
}

// Sentence-level logits: mean of the token states, then the head.
Tensor logits(nn::models::BertModel& bert, nn::Linear& head, const Tensor& ids) {
    return head(bert.forward(ids).mean({1}));
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse_args(argc, argv);
    auto bert = make_encoder(opt);
    const int64_t vocab = bert->config.vocab_size;

    // Data: 64 sequences of 16 tokens drawn from 10..vocab-1, token 7 put in half of them.
    Generator data_gen(1);
    const int64_t n = 64, len = 16;
    Tensor ids = (rand({n, len}, DType::Float32, &data_gen) * double(vocab - 11) + 10.0).to(DType::Int64);
    Tensor labels = zeros({n}, DType::Int64);
    for (int64_t i = 0; i < n; i += 2) {
        ids.select(0, i).select(0, (i * 5) % len).fill_(7);
        labels.select(0, i).fill_(1);
    }

    // Adapters on query and value; everything else frozen, then the new head trains too.
    Generator lora_gen(3);
    const auto wrapped = transfer::apply_lora(*bert, {.rank = opt.rank, .alpha = 2.0 * double(opt.rank), .dropout = 0.05,
                                                      .target_modules = {"*query", "*value"}, .gen = &lora_gen,
                                                      .freeze_base_model = true});
    auto head = std::make_shared<nn::Linear>(bert->config.hidden_size, 2);
    std::vector<Tensor> trainable = transfer::lora_parameters(*bert);
    for (const Tensor& p : head->parameters()) trainable.push_back(p);
    int64_t trainable_count = 0;
    for (const Tensor& p : trainable) trainable_count += p.numel();
    const int64_t total = bert->num_parameters() + head->num_parameters();
    std::printf("wrapped %zu layers (%s, ...); trainable %lld of %lld parameters (%.2f%%)\n", wrapped.size(),
                wrapped.front().c_str(), (long long)trainable_count, (long long)total,
                100.0 * double(trainable_count) / double(total));

    optim::AdamW opt_w(trainable, {.lr = 3e-3, .weight_decay = 0.0});
    for (int step = 1; step <= opt.steps; ++step) {
        const Tensor loss = cross_entropy(logits(*bert, *head, ids), labels);
        opt_w.zero_grad();
        loss.backward();
        opt_w.step();
        if (step == 1 || step % 25 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item<double>());
    }
    bert->eval();
    NoGradGuard no_grad;
    const Tensor trained = logits(*bert, *head, ids);
    const double accuracy = (trained.argmax(1) == labels).to(DType::Float32).mean().item<double>();
    std::printf("training accuracy %.1f%%\n", 100.0 * accuracy);

    // The adapters alone go to a small file; a fresh encoder with the same targets takes them back.
    transfer::save_lora(*bert, opt.out);
    auto again = make_encoder(opt);
    transfer::apply_lora(*again, {.rank = opt.rank, .target_modules = {"*query", "*value"}});
    transfer::load_lora(*again, opt.out);  // also adopts the saved alpha
    again->eval();
    const double reload_diff = (logits(*again, *head, ids) - trained).abs().max().item<double>();
    std::printf("saved %s (%zu tensors); reloaded logits differ by %.3g\n", opt.out.c_str(),
                transfer::lora_state_dict(*bert).size(), reload_diff);

    // Merged: the update lives in the base weights, forward costs what the base did.
    transfer::merge_lora(*again);
    const double merge_diff = (logits(*again, *head, ids) - trained).abs().max().item<double>();
    std::printf("merged logits differ by %.3g\n", merge_diff);
    return 0;
}
