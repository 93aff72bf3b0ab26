// BatchNorm1d/2d, LayerNorm and GroupNorm over the ops of core/ops/norm.h.
#include "nn/layers/norm.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/autograd/grad_mode.h"
#include "core/ops/binary.h"
#include "core/ops/creation.h"
#include "core/ops/norm.h"

namespace graft::nn {

namespace {

// A double as Python's repr writes it ("1e-05", "0.1", "1.0"), for extra_repr.
std::string py_float(double v) {
    char buf[32];
    // The shortest form that reads back the same value, as repr.
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    std::string s = buf;
    if (s.find_first_of(".eni") == std::string::npos) s += ".0";
    return s;
}

const char* py_bool(bool b) { return b ? "True" : "False"; }

std::string shape_tuple(const Shape& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += cat_str(i ? ", " : "", shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

// ---- BatchNorm -------------------------------------------------------------------

BatchNormBase::BatchNormBase(std::string type_name, int64_t num_features, const BatchNormOptions& o)
    : Module(std::move(type_name)), num_features(num_features), eps(o.eps), momentum(o.momentum),
      affine(o.affine), track_running_stats(o.track_running_stats) {
    check(num_features > 0, this->type_name().c_str(), "num_features must be positive, got ", num_features);
    if (affine) {
        weight = register_parameter("weight", ones({num_features}));
        bias = register_parameter("bias", zeros({num_features}));
    }
    if (track_running_stats) {
        running_mean = register_buffer("running_mean", zeros({num_features}));
        running_var = register_buffer("running_var", ones({num_features}));
        num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
    }
}

void BatchNormBase::reset_running_stats() {
    if (!track_running_stats) return;
    NoGradGuard no_grad;
    running_mean.zero_();
    running_var.fill_(1.0);
    num_batches_tracked.zero_();
}

void BatchNormBase::reset_parameters() {
    reset_running_stats();
    if (!affine) return;
    NoGradGuard no_grad;
    weight.fill_(1.0);
    bias.zero_();
}

// As torch's _BatchNorm.forward: in training with tracked statistics, count the
// batch and pick the update factor (momentum, or 1/count for the cumulative
// average); normalise with batch statistics in training, or when there are no
// running ones.
Tensor BatchNormBase::forward(const Tensor& x) {
    check_input(x);
    const bool frozen = is_training() && use_running_stats_in_train;
    check(!frozen || track_running_stats, type_name().c_str(),
          "use_running_stats_in_train needs running statistics (track_running_stats=True)");
    double factor = 0.0;
    if (is_training() && track_running_stats && !frozen) {
        NoGradGuard no_grad;
        num_batches_tracked.add_(1);
        factor = momentum ? *momentum : 1.0 / double(num_batches_tracked.item<int64_t>());
    }
    const bool batch_stats = is_training() ? !frozen : !track_running_stats;
    const bool pass_running = !is_training() || track_running_stats;
    return batch_norm(x, weight, bias, pass_running ? running_mean : Tensor(), pass_running ? running_var : Tensor(),
                      batch_stats, factor, eps);
}

std::string BatchNormBase::extra_repr() const {
    return cat_str(num_features, ", eps=", py_float(eps), ", momentum=", momentum ? py_float(*momentum) : "None",
                   ", affine=", py_bool(affine), ", track_running_stats=", py_bool(track_running_stats));
}

BatchNorm1d::BatchNorm1d(int64_t num_features, const BatchNormOptions& options)
    : BatchNormBase("BatchNorm1d", num_features, options) {}

void BatchNorm1d::check_input(const Tensor& x) const {
    check(x.dim() == 2 || x.dim() == 3, "BatchNorm1d", "expected 2D or 3D input [N, C] or [N, C, L], got ",
          describe(x));
}

BatchNorm2d::BatchNorm2d(int64_t num_features, const BatchNormOptions& options)
    : BatchNormBase("BatchNorm2d", num_features, options) {}

void BatchNorm2d::check_input(const Tensor& x) const {
    check(x.dim() == 4, "BatchNorm2d", "expected 4D input [N, C, H, W], got ", describe(x));
}

// ---- LayerNorm, GroupNorm ------------------------------------------------------------

LayerNorm::LayerNorm(Shape shape, double eps, bool elementwise_affine)
    : Module("LayerNorm"), normalized_shape(std::move(shape)), eps(eps), elementwise_affine(elementwise_affine) {
    check(!normalized_shape.empty(), "LayerNorm", "normalized_shape must not be empty");
    if (elementwise_affine) {
        weight = register_parameter("weight", ones(normalized_shape));
        bias = register_parameter("bias", zeros(normalized_shape));
    }
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape, weight, bias, eps); }

std::string LayerNorm::extra_repr() const {
    return cat_str(shape_tuple(normalized_shape), ", eps=", py_float(eps),
                   ", elementwise_affine=", py_bool(elementwise_affine));
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, double eps, bool affine)
    : Module("GroupNorm"), num_groups(num_groups), num_channels(num_channels), eps(eps), affine(affine) {
    check(num_groups > 0 && num_channels % num_groups == 0, "GroupNorm", "num_channels ", num_channels,
          " must be divisible by num_groups ", num_groups);
    if (affine) {
        weight = register_parameter("weight", ones({num_channels}));
        bias = register_parameter("bias", zeros({num_channels}));
    }
}

Tensor GroupNorm::forward(const Tensor& x) {
    check(x.dim() >= 2 && x.size(1) == num_channels, "GroupNorm", "expected input [N, ", num_channels,
          ", ...], got ", describe(x));
    return group_norm(x, num_groups, weight, bias, eps);
}

std::string GroupNorm::extra_repr() const {
    return cat_str(num_groups, ", ", num_channels, ", eps=", py_float(eps), ", affine=", py_bool(affine));
}

}  // namespace graft::nn
