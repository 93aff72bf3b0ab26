// Normalisation layers with torch.nn's names, arguments and state_dict keys:
//
//   auto bn = std::make_shared<nn::BatchNorm2d>(64);   // weight, bias [64];
//   Tensor y = (*bn)(x);                               // running_mean, running_var [64],
//                                                      // num_batches_tracked (int64, 0-d)
//   auto ln = std::make_shared<nn::LayerNorm>(Shape{768});
//   auto gn = std::make_shared<nn::GroupNorm>(32, 256);
//
// BatchNorm in training normalises with the batch statistics and updates the
// running ones (momentum, or a cumulative average when momentum is nullopt, as
// torch's momentum=None); in eval it uses the running statistics. For transfer
// learning, use_running_stats_in_train makes a BatchNorm behave as in eval even
// while the model trains: running statistics, no updates, no counter bump, and
// its weight and bias still trainable ("frozen BatchNorm").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nn/module.h"

namespace graft::nn {

struct BatchNormOptions {
    double eps = 1e-5;
    std::optional<double> momentum = 0.1;  // nullopt: cumulative moving average
    bool affine = true;
    bool track_running_stats = true;
};

// The shared body of BatchNorm1d and BatchNorm2d; they differ in the input
// ranks they accept.
class BatchNormBase : public Module {
public:
    Tensor forward(const Tensor& x) override;
    // "64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True"
    std::string extra_repr() const override;
    // running_mean = 0, running_var = 1, num_batches_tracked = 0.
    void reset_running_stats();
    // weight = 1, bias = 0, and the running statistics reset.
    void reset_parameters();

    const int64_t num_features;
    const double eps;
    const std::optional<double> momentum;
    const bool affine;
    const bool track_running_stats;
    // Frozen BatchNorm: normalise with the running statistics in train mode too,
    // leaving them (and num_batches_tracked) unchanged. Needs running statistics.
    bool use_running_stats_in_train = false;

    Tensor weight;               // [num_features], undefined without affine
    Tensor bias;                 // [num_features], undefined without affine
    Tensor running_mean;         // [num_features], undefined without track_running_stats
    Tensor running_var;          // [num_features]
    Tensor num_batches_tracked;  // int64 0-d

protected:
    BatchNormBase(std::string type_name, int64_t num_features, const BatchNormOptions& options);
    virtual void check_input(const Tensor& x) const = 0;
};

// x [N, C] or [N, C, L].
class BatchNorm1d : public BatchNormBase {
public:
    explicit BatchNorm1d(int64_t num_features, const BatchNormOptions& options = {});

protected:
    void check_input(const Tensor& x) const override;
};

// x [N, C, H, W].
class BatchNorm2d : public BatchNormBase {
public:
    explicit BatchNorm2d(int64_t num_features, const BatchNormOptions& options = {});

protected:
    void check_input(const Tensor& x) const override;
};

// Normalises over the trailing normalized_shape; weight (ones) and bias (zeros)
// of that shape when elementwise_affine.
class LayerNorm : public Module {
public:
    explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;  // "(768,), eps=1e-05, elementwise_affine=True"

    const Shape normalized_shape;
    const double eps;
    const bool elementwise_affine;
    Tensor weight;
    Tensor bias;
};

// x [N, C, ...] in num_groups groups of channels; weight (ones) and bias (zeros)
// [num_channels] when affine.
class GroupNorm : public Module {
public:
    GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;  // "32, 256, eps=1e-05, affine=True"

    const int64_t num_groups;
    const int64_t num_channels;
    const double eps;
    const bool affine;
    Tensor weight;
    Tensor bias;
};

}  // namespace graft::nn
