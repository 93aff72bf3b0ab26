// The op registry: one row per public op. Tests iterate it, so an op that is
// listed as differentiable but has no gradient check (tests/core/gradcheck_*.cpp)
// fails the suite, and a new op is one row here plus its file in core/ops/.
#pragma once

#include <array>
#include <string_view>

namespace graft::ops {

enum class Family { Creation, Random, Convert, View, Indexing, Join, Binary, Compare, Unary, Activation,
                    Reduction, Softmax, Matmul, Conv, Pool, Norm, Loss, Nn };

struct OpInfo {
    std::string_view name;
    Family family;
    int arity;            // tensor inputs
    bool differentiable;  // has a backward formula (and so a gradient check)
};

inline constexpr std::array kOps = std::to_array<OpInfo>({
    // creation and random numbers
    {"empty", Family::Creation, 0, false},       {"zeros", Family::Creation, 0, false},
    {"ones", Family::Creation, 0, false},        {"full", Family::Creation, 0, false},
    {"arange", Family::Creation, 0, false},      {"linspace", Family::Creation, 0, false},
    {"eye", Family::Creation, 0, false},         {"from_vector", Family::Creation, 0, false},
    {"from_blob", Family::Creation, 0, false},   {"rand", Family::Random, 0, false},
    {"randn", Family::Random, 0, false},         {"uniform", Family::Random, 0, false},
    {"normal", Family::Random, 0, false},        {"bernoulli", Family::Random, 1, false},
    {"randperm", Family::Random, 0, false},
    // dtype, device, layout
    {"to_dtype", Family::Convert, 1, true},      {"to_device", Family::Convert, 1, false},
    {"contiguous", Family::Convert, 1, true},    {"clone", Family::Convert, 1, true},
    {"copy_", Family::Convert, 2, false},
    // views
    {"view", Family::View, 1, true},             {"reshape", Family::View, 1, true},
    {"permute", Family::View, 1, true},          {"transpose", Family::View, 1, true},
    {"narrow", Family::View, 1, true},           {"slice", Family::View, 1, true},
    {"select", Family::View, 1, true},           {"expand", Family::View, 1, true},
    {"squeeze", Family::View, 1, true},          {"unsqueeze", Family::View, 1, true},
    {"flatten", Family::View, 1, true},
    // indexing, joining
    {"index_select", Family::Indexing, 2, true}, {"gather", Family::Indexing, 2, true},
    {"scatter_add", Family::Indexing, 3, true},  {"masked_fill", Family::Indexing, 2, true},
    {"where", Family::Indexing, 3, true},        {"cat", Family::Join, -1, true},
    {"stack", Family::Join, -1, true},           {"split", Family::Join, 1, true},
    {"chunk", Family::Join, 1, true},
    // binary elementwise
    {"add", Family::Binary, 2, true},            {"sub", Family::Binary, 2, true},
    {"mul", Family::Binary, 2, true},            {"div", Family::Binary, 2, true},
    {"pow", Family::Binary, 2, true},            {"pow_scalar", Family::Binary, 1, true},
    {"maximum", Family::Binary, 2, true},        {"minimum", Family::Binary, 2, true},
    {"eq", Family::Compare, 2, false},           {"ne", Family::Compare, 2, false},
    {"lt", Family::Compare, 2, false},           {"le", Family::Compare, 2, false},
    {"gt", Family::Compare, 2, false},           {"ge", Family::Compare, 2, false},
    // unary elementwise
    {"neg", Family::Unary, 1, true},             {"exp", Family::Unary, 1, true},
    {"log", Family::Unary, 1, true},             {"log1p", Family::Unary, 1, true},
    {"sqrt", Family::Unary, 1, true},            {"rsqrt", Family::Unary, 1, true},
    {"abs", Family::Unary, 1, true},             {"sign", Family::Unary, 1, true},
    {"clamp", Family::Unary, 1, true},
    // activations
    {"relu", Family::Activation, 1, true},       {"relu6", Family::Activation, 1, true},
    {"leaky_relu", Family::Activation, 1, true}, {"gelu", Family::Activation, 1, true},
    {"gelu_tanh", Family::Activation, 1, true},  {"silu", Family::Activation, 1, true},
    {"sigmoid", Family::Activation, 1, true},    {"tanh", Family::Activation, 1, true},
    {"softplus", Family::Activation, 1, true},   {"hardswish", Family::Activation, 1, true},
    // reductions
    {"sum", Family::Reduction, 1, true},         {"mean", Family::Reduction, 1, true},
    {"max", Family::Reduction, 1, true},         {"min", Family::Reduction, 1, true},
    {"max_dim", Family::Reduction, 1, true},     {"min_dim", Family::Reduction, 1, true},
    {"argmax", Family::Reduction, 1, false},     {"argmin", Family::Reduction, 1, false},
    {"var", Family::Reduction, 1, true},         {"std", Family::Reduction, 1, true},
    {"logsumexp", Family::Reduction, 1, true},
    {"softmax", Family::Softmax, 1, true},       {"log_softmax", Family::Softmax, 1, true},
    {"matmul", Family::Matmul, 2, true},         {"addmm", Family::Matmul, 3, true},
    // convolution and pooling (NCHW)
    {"conv2d", Family::Conv, 3, true},           {"max_pool2d", Family::Pool, 1, true},
    {"avg_pool2d", Family::Pool, 1, true},       {"adaptive_avg_pool2d", Family::Pool, 1, true},
    // normalisation (input, weight, bias)
    {"batch_norm", Family::Norm, 3, true},       {"layer_norm", Family::Norm, 3, true},
    {"group_norm", Family::Norm, 3, true},
    // losses (input, target)
    {"cross_entropy", Family::Loss, 2, true},    {"nll_loss", Family::Loss, 2, true},
    {"mse_loss", Family::Loss, 2, true},         {"l1_loss", Family::Loss, 2, true},
    {"smooth_l1_loss", Family::Loss, 2, true},   {"bce_with_logits", Family::Loss, 2, true},
    // layer ops
    {"dropout", Family::Nn, 1, true},            {"embedding", Family::Nn, 2, true},
});

constexpr const OpInfo* find_op(std::string_view name) {
    for (const OpInfo& op : kOps)
        if (op.name == name) return &op;
    return nullptr;
}

}  // namespace graft::ops
