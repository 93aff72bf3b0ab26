// Linear, the activation modules and the containers: PyTorch's parameter
// names and shapes, default init statistics, forward formulas, printing, and
// float64 gradient checks through the modules.
#include <catch2/catch.hpp>
#include <cmath>

#include "graft.h"
#include "nn/nn.h"
#include "tests/nn/module_gradcheck.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> names_of(const nn::Module& m) {
    std::vector<std::string> out;
    for (auto& [name, p] : m.named_parameters()) out.push_back(name);
    return out;
}

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(sub(a, b))).item<double>(); }

}  // namespace

TEST_CASE("Linear has torch's names, shapes and printing", "[layers][linear]") {
    auto fc = std::make_shared<nn::Linear>(784, 10);
    CHECK(names_of(*fc) == std::vector<std::string>{"weight", "bias"});
    CHECK(fc->weight.shape() == Shape{10, 784});
    CHECK(fc->bias.shape() == Shape{10});
    CHECK(fc->weight.requires_grad());
    CHECK(fc->str() == "Linear(in_features=784, out_features=10, bias=True)  # 7850 params");
    auto plain = std::make_shared<nn::Linear>(3, 2, false);
    CHECK(names_of(*plain) == std::vector<std::string>{"weight"});
    CHECK(plain->state_dict().names() == std::vector<std::string>{"weight"});
    CHECK(plain->extra_repr() == "in_features=3, out_features=2, bias=False");
}

TEST_CASE("Linear's default init is torch's: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias", "[layers][linear]") {
    manual_seed(3);
    nn::Linear fc(1000, 500);
    const double bound = 1.0 / std::sqrt(1000.0);
    const Tensor w = fc.weight.detach().to(DType::Float64);
    CHECK(max(abs(w)).item<double>() <= bound);
    CHECK(max(abs(w)).item<double>() > 0.99 * bound);
    CHECK(graft::std(w).item<double>() == Approx(bound / std::sqrt(3.0)).epsilon(0.005));
    CHECK(std::fabs(mean(w).item<double>()) < 5 * bound / std::sqrt(3.0 * 500000));  // 5 standard errors
    const Tensor b = fc.bias.detach().to(DType::Float64);
    CHECK(max(abs(b)).item<double>() <= bound);
    CHECK(graft::std(b).item<double>() == Approx(bound / std::sqrt(3.0)).epsilon(0.1));
}

TEST_CASE("Linear computes x·Wᵀ + b over any leading dims", "[layers][linear]") {
    nn::Linear fc(3, 2);
    {
        NoGradGuard no_grad;
        fc.weight.copy_(from_vector<float>({1, 2, 3, -1, 0, 1}, {2, 3}));
        fc.bias.copy_(from_vector<float>({0.5f, -0.5f}));
    }
    const Tensor x = from_vector<float>({1, 1, 1, 2, 0, -1}, {2, 3});
    CHECK(fc(x).to_vector<float>() == std::vector<float>{6.5f, -0.5f, -0.5f, -3.5f});
    const Tensor x4 = randn({2, 3, 4, 3});
    const Tensor y4 = fc(x4);
    CHECK(y4.shape() == Shape{2, 3, 4, 2});
    CHECK(max_abs_diff(y4.select(1, 2).select(1, 3), fc(x4.select(1, 2).select(1, 3))) < 1e-6);
    CHECK(fc(from_vector<float>({1, 1, 1})).to_vector<float>() == std::vector<float>{6.5f, -0.5f});
    CHECK_THROWS_WITH(fc(randn({4, 5})), Contains("linear") && Contains("in_features=3"));
    // a transposed (non-contiguous) input reads the same
    const Tensor xt = randn({3, 5}).t();
    CHECK(max_abs_diff(fc(xt), fc(xt.contiguous())) < 1e-6);
}

TEST_CASE("gradients through Linear match central differences", "[layers][linear][grad]") {
    nn::Linear fc(4, 3);
    fc.to(DType::Float64);
    const Tensor x = randn({2, 5, 4}, DType::Float64).requires_grad_();
    nn_test::check_module_grads([&] { return fc(x); }, {x, fc.weight, fc.bias});
}

TEST_CASE("activation modules call their ops and print as torch", "[layers][activation]") {
    const Tensor x = mul(randn({4, 6}), 3.0);
    struct Case {
        std::shared_ptr<nn::Module> module;
        Tensor expected;
        std::string text;
    };
    const std::vector<Case> cases = {
        {std::make_shared<nn::ReLU>(), relu(x), "ReLU()"},
        {std::make_shared<nn::ReLU6>(), relu6(x), "ReLU6()"},
        {std::make_shared<nn::LeakyReLU>(), leaky_relu(x, 0.01), "LeakyReLU(negative_slope=0.01)"},
        {std::make_shared<nn::LeakyReLU>(0.2), leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"},
        {std::make_shared<nn::GELU>(), gelu(x), "GELU(approximate='none')"},
        {std::make_shared<nn::GELU>("tanh"), gelu(x, GeluApproximation::Tanh), "GELU(approximate='tanh')"},
        {std::make_shared<nn::SiLU>(), silu(x), "SiLU()"},
        {std::make_shared<nn::Sigmoid>(), sigmoid(x), "Sigmoid()"},
        {std::make_shared<nn::Tanh>(), tanh(x), "Tanh()"},
        {std::make_shared<nn::Softplus>(), softplus(x), "Softplus(beta=1, threshold=20)"},
        {std::make_shared<nn::Softplus>(2.0, 5.0), softplus(x, 2.0, 5.0), "Softplus(beta=2.0, threshold=5.0)"},
        {std::make_shared<nn::Hardswish>(), hardswish(x), "Hardswish()"},
        {std::make_shared<nn::Identity>(), x, "Identity()"},
        {std::make_shared<nn::Softmax>(1), softmax(x, 1), "Softmax(dim=1)"},
        {std::make_shared<nn::LogSoftmax>(-1), log_softmax(x, -1), "LogSoftmax(dim=-1)"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        CHECK(c.module->str() == c.text);
        CHECK(max_abs_diff((*c.module)(x), c.expected) == 0.0);
        CHECK(c.module->named_parameters().empty());
    }
    CHECK_THROWS_WITH(nn::GELU("erf"), Contains("'none' or 'tanh'"));
}

TEST_CASE("Flatten merges start_dim..end_dim", "[layers][activation]") {
    const Tensor x = randn({2, 3, 4, 5});
    CHECK(nn::Flatten()(x).shape() == Shape{2, 60});
    CHECK(nn::Flatten(0, 1)(x).shape() == Shape{6, 4, 5});
    CHECK(nn::Flatten(1, 2)(x).shape() == Shape{2, 12, 5});
    CHECK(nn::Flatten().str() == "Flatten(start_dim=1, end_dim=-1)");
    CHECK(nn::Flatten()(x.permute({0, 2, 1, 3})).shape() == Shape{2, 60});  // copies when it cannot view
}

TEST_CASE("Sequential names children 0, 1, ... and runs them in order", "[layers][container]") {
    auto mlp = nn::sequential({std::make_shared<nn::Linear>(6, 8), std::make_shared<nn::ReLU>(),
                               std::make_shared<nn::Linear>(8, 3)});
    CHECK(names_of(*mlp) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    CHECK(mlp->size() == 3);
    CHECK((*mlp)[1]->type_name() == "ReLU");
    CHECK((*mlp)[-1]->type_name() == "Linear");
    CHECK(mlp->at<nn::Linear>(2)->out_features == 3);
    CHECK_THROWS_WITH(mlp->at<nn::Linear>(1), Contains("ReLU"));
    CHECK_THROWS_WITH((*mlp)[3], Contains("out of range"));
    const Tensor x = randn({4, 6});
    auto l0 = mlp->at<nn::Linear>(0), l2 = mlp->at<nn::Linear>(2);
    CHECK(max_abs_diff((*mlp)(x), (*l2)(relu((*l0)(x)))) == 0.0);
    CHECK(mlp->str() ==
          "Sequential(  # 83 params\n"
          "  (0): Linear(in_features=6, out_features=8, bias=True)  # 56 params\n"
          "  (1): ReLU()\n"
          "  (2): Linear(in_features=8, out_features=3, bias=True)  # 27 params\n"
          ")");
    // head surgery through the registry is what forward sees
    mlp->replace_module("2", std::make_shared<nn::Linear>(8, 5));
    CHECK((*mlp)(x).shape() == Shape{4, 5});
    auto tanh_layer = mlp->push_back(std::make_shared<nn::Tanh>());
    CHECK(mlp->named_children().back().first == "3");
    CHECK((*mlp)[3] == tanh_layer);
    CHECK(nn::Sequential().size() == 0);
    CHECK(max_abs_diff(nn::Sequential()(x), x) == 0.0);
}

TEST_CASE("ModuleList and ModuleDict hold children under torch's names", "[layers][container]") {
    auto list = std::make_shared<nn::ModuleList>();
    for (int i = 0; i < 3; ++i) list->push_back(std::make_shared<nn::Linear>(2, 2));
    CHECK(names_of(*list) == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "2.weight",
                                                      "2.bias"});
    CHECK(list->items().size() == 3);
    CHECK_THROWS_WITH((*list)(randn({2})), Contains("ModuleList"));

    auto dict = std::make_shared<nn::ModuleDict>();
    auto q = dict->insert("query", std::make_shared<nn::Linear>(4, 4));
    dict->insert("act", std::make_shared<nn::GELU>());
    CHECK(dict->keys() == std::vector<std::string>{"query", "act"});
    CHECK(dict->contains("act"));
    CHECK_FALSE(dict->contains("key"));
    CHECK((*dict)["query"] == q);
    CHECK_THROWS_WITH((*dict)["key"], Contains("query, act"));
    CHECK(names_of(*dict) == std::vector<std::string>{"query.weight", "query.bias"});
}

TEST_CASE("gradients through a Sequential MLP match central differences", "[layers][container][grad]") {
    auto mlp = nn::sequential({std::make_shared<nn::Linear>(3, 5), std::make_shared<nn::GELU>(),
                               std::make_shared<nn::Linear>(5, 4), std::make_shared<nn::Tanh>(),
                               std::make_shared<nn::LogSoftmax>(1)});
    mlp->to(DType::Float64);
    const Tensor x = randn({3, 3}, DType::Float64).requires_grad_();
    std::vector<Tensor> leaves{x};
    for (const Tensor& p : mlp->parameters()) leaves.push_back(p);
    nn_test::check_module_grads([&] { return (*mlp)(x); }, leaves);
}
