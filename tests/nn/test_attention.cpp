// MultiheadAttention: torch's names, shapes and init; layouts (batch-first,
// sequence-first, unbatched) agreeing with each other; masks; fully masked
// rows; dropout; gradient checks in float64. Parity with torch itself is in
// test_linear_mha_parity.cpp.
#include <catch2/catch.hpp>
#include <cmath>

#include "graft.h"
#include "nn/nn.h"
#include "tests/nn/module_gradcheck.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(sub(a, b))).item<double>(); }

bool all_finite(const Tensor& t) {
    for (double v : t.to_vector<double>())
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace

TEST_CASE("MultiheadAttention has torch's parameter names, shapes and init", "[attention]") {
    manual_seed(5);
    auto attn = std::make_shared<nn::MultiheadAttention>(256, 8);
    std::vector<std::string> names;
    for (auto& [name, p] : attn->named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"});
    CHECK(attn->in_proj_weight.shape() == Shape{768, 256});
    CHECK(attn->out_proj->weight.shape() == Shape{256, 256});
    CHECK(max(abs(attn->in_proj_bias)).item<double>() == 0.0);
    CHECK(max(abs(attn->out_proj->bias)).item<double>() == 0.0);
    const double xavier = std::sqrt(6.0 / (256 + 768));
    const Tensor w = attn->in_proj_weight.detach().to(DType::Float64);
    CHECK(max(abs(w)).item<double>() <= xavier);
    CHECK(graft::std(w).item<double>() == Approx(xavier / std::sqrt(3.0)).epsilon(0.01));
    const Tensor o = attn->out_proj->weight.detach().to(DType::Float64);
    CHECK(graft::std(o).item<double>() == Approx(1.0 / std::sqrt(3.0 * 256)).epsilon(0.01));
    CHECK(attn->str() ==
          "MultiheadAttention(  # 263168 params\n"
          "  (out_proj): Linear(in_features=256, out_features=256, bias=True)  # 65792 params\n"
          ")");
    auto plain = std::make_shared<nn::MultiheadAttention>(8, 2, nn::MultiheadAttentionOptions{.bias = false});
    CHECK(plain->state_dict().names() == std::vector<std::string>{"in_proj_weight", "out_proj.weight"});
    CHECK_THROWS_WITH(nn::MultiheadAttention(10, 3), Contains("multiple of num_heads"));
}

TEST_CASE("batch-first, sequence-first and unbatched layouts agree", "[attention]") {
    nn::MultiheadAttention seq(8, 2);
    nn::MultiheadAttention bf(8, 2, {.batch_first = true});
    bf.load_state_dict(seq.state_dict());
    const Tensor q = randn({3, 5, 8}), kv = randn({3, 7, 8});  // [B, L, E], [B, S, E]
    const auto a = bf.forward(q, kv, kv);
    const auto b = seq.forward(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1));
    CHECK(a.output.shape() == Shape{3, 5, 8});
    CHECK(b.output.shape() == Shape{5, 3, 8});
    CHECK(a.weights.shape() == Shape{3, 5, 7});
    CHECK(max_abs_diff(a.output, b.output.transpose(0, 1)) < 1e-6);
    CHECK(max_abs_diff(a.weights, b.weights) < 1e-6);
    // weights are probabilities over keys
    CHECK(max_abs_diff(sum(a.weights, {-1}), ones({3, 5})) < 1e-5);
    // unbatched [L, E]: batch element 1 alone
    const auto u = seq.forward(q.select(0, 1), kv.select(0, 1), kv.select(0, 1), {.average_attn_weights = false});
    CHECK(u.output.shape() == Shape{5, 8});
    CHECK(u.weights.shape() == Shape{2, 5, 7});
    CHECK(max_abs_diff(u.output, a.output.select(0, 1)) < 1e-6);
    // self-attention with one tensor runs the packed projection; same numbers
    const auto s1 = bf.forward(q, q, q), s2 = bf.forward(q, q.clone(), q.clone());
    CHECK(max_abs_diff(s1.output, s2.output) < 1e-6);
    CHECK(max_abs_diff(bf(q), s1.output) == 0.0);
    CHECK_FALSE(bf.forward(q, q, q, {.need_weights = false}).weights.defined());
}

TEST_CASE("masks: padding and causal positions get zero weight", "[attention]") {
    nn::MultiheadAttention attn(12, 3, {.batch_first = true});
    const Tensor x = randn({2, 5, 12});
    const Tensor pad = from_vector<int64_t>({0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, {2, 5}) == 1;  // batch 1: last 2 padded
    const Tensor causal = nn::causal_mask(5);
    CHECK(causal.dtype() == DType::Bool);
    CHECK(causal.to(DType::Int64).to_vector<int64_t>() ==
          std::vector<int64_t>{0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0});
    const auto r = attn.forward(x, x, x, {.key_padding_mask = pad, .attn_mask = causal, .average_attn_weights = false});
    const auto w = r.weights.to_vector<float>();  // [2, 3, 5, 5]
    for (int64_t b = 0; b < 2; ++b)
        for (int64_t h = 0; h < 3; ++h)
            for (int64_t i = 0; i < 5; ++i)
                for (int64_t j = 0; j < 5; ++j)
                    if (j > i || (b == 1 && j >= 3)) CHECK(w[size_t(((b * 3 + h) * 5 + i) * 5 + j)] == 0.0f);
    // a float mask of 0 / -inf is the same mask
    const Tensor additive = masked_fill(zeros({5, 5}), causal, -INFINITY);
    const auto f = attn.forward(x, x, x, {.key_padding_mask = pad, .attn_mask = additive});
    const auto g = attn.forward(x, x, x, {.key_padding_mask = pad, .attn_mask = causal});
    CHECK(max_abs_diff(f.output, g.output) == 0.0);
    CHECK_THROWS_WITH(attn.forward(x, x, x, {.attn_mask = nn::causal_mask(4)}), Contains("attn_mask has shape [4, 4]"));
    CHECK_THROWS_WITH(attn.forward(x, x, x, {.key_padding_mask = pad.t()}), Contains("key_padding_mask"));
}

TEST_CASE("a fully masked query row gets zero weights, out_proj.bias as output, finite gradients", "[attention]") {
    nn::MultiheadAttention attn(4, 2, {.batch_first = true});
    attn.to(DType::Float64);
    {
        NoGradGuard no_grad;
        attn.out_proj->bias.copy_(from_vector<double>({0.1, -0.2, 0.3, 0.4}));
    }
    const Tensor x = randn({1, 3, 4}, DType::Float64).requires_grad_();
    // query 0 may attend nowhere; the others see every key
    const Tensor mask = from_vector<int64_t>({1, 1, 1, 0, 0, 0, 0, 0, 0}, {3, 3}) == 1;
    const auto r = attn.forward(x, x, x, {.attn_mask = mask});
    CHECK(max(abs(r.weights.select(1, 0))).item<double>() == 0.0);
    CHECK(max_abs_diff(r.output.select(1, 0).squeeze(0), attn.out_proj->bias) < 1e-12);
    CHECK(max_abs_diff(sum(r.weights.select(1, 2), {-1}), ones({1}, DType::Float64)) < 1e-12);
    sum(r.output).backward();
    CHECK(all_finite(x.grad()));
    CHECK(all_finite(attn.in_proj_weight.grad()));
}

TEST_CASE("attention dropout drops weights in training only", "[attention]") {
    manual_seed(9);
    nn::MultiheadAttention attn(8, 2, {.dropout = 0.5, .batch_first = true});
    const Tensor x = randn({4, 16, 8});
    const auto train = attn.forward(x, x, x, {.average_attn_weights = false});
    const auto w = train.weights.to_vector<float>();
    const auto zeros_seen = std::count(w.begin(), w.end(), 0.0f);
    CHECK(zeros_seen > int64_t(w.size()) * 4 / 10);
    CHECK(zeros_seen < int64_t(w.size()) * 6 / 10);
    // kept weights are scaled by 1 / (1 - p) = 2, so rows still sum to 1 on average
    CHECK(mean(sum(train.weights, {-1})).item<double>() == Approx(1.0).epsilon(0.1));
    attn.eval();
    const auto eval = attn.forward(x, x, x);
    CHECK(max_abs_diff(sum(eval.weights, {-1}), ones({4, 16})) < 1e-5);
}

TEST_CASE("gradients through MultiheadAttention match central differences", "[attention][grad]") {
    SECTION("cross-attention, batch-first, padding mask, per-head weights") {
        nn::MultiheadAttention attn(4, 2, {.batch_first = true});
        attn.to(DType::Float64);
        const Tensor q = randn({2, 3, 4}, DType::Float64).requires_grad_();
        const Tensor kv = randn({2, 5, 4}, DType::Float64).requires_grad_();
        const Tensor pad = from_vector<int64_t>({0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, {2, 5}) == 1;
        std::vector<Tensor> leaves{q, kv};
        for (const Tensor& p : attn.parameters()) leaves.push_back(p);
        nn_test::check_module_grads(
            [&] {
                const auto r = attn.forward(q, kv, kv, {.key_padding_mask = pad, .average_attn_weights = false});
                return cat({r.output.flatten(), r.weights.flatten()});
            },
            leaves);
    }
    SECTION("self-attention, sequence-first, causal mask, no bias") {
        nn::MultiheadAttention attn(6, 3, {.bias = false});
        attn.to(DType::Float64);
        const Tensor x = randn({4, 2, 6}, DType::Float64).requires_grad_();
        std::vector<Tensor> leaves{x};
        for (const Tensor& p : attn.parameters()) leaves.push_back(p);
        nn_test::check_module_grads(
            [&] {
                const auto r = attn.forward(x, x, x, {.attn_mask = nn::causal_mask(4)});
                return cat({r.output.flatten(), r.weights.flatten()});
            },
            leaves);
    }
}
