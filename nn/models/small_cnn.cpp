// SmallCnn: the two-conv Fashion-MNIST network of small_cnn.h, a Sequential with stages.
#include "nn/models/small_cnn.h"

#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/pooling.h"

namespace graft::nn::models {

SmallCnn::SmallCnn(const SmallCnnOptions& o) : options(o) {
    check(o.in_channels > 0 && o.num_classes > 0, "small_cnn", "in_channels and num_classes must be positive, got ",
          o.in_channels, " and ", o.num_classes);
    check(o.image_size >= 4 && o.image_size % 4 == 0, "small_cnn",
          "image_size must be a positive multiple of 4 (two 2x2 pools), got ", o.image_size);
    check(o.dropout >= 0 && o.dropout < 1, "small_cnn", "dropout must be in [0, 1), got ", o.dropout);
    Generator* gen = o.gen;
    int64_t channels = o.in_channels;
    for (int64_t width : {32, 64}) {
        push_back(std::make_shared<Conv2d>(channels, width, 3, Conv2dOptions{.padding = 1, .bias = !o.batch_norm}, gen));
        if (o.batch_norm) push_back(std::make_shared<BatchNorm2d>(width));
        push_back(std::make_shared<ReLU>());
        push_back(std::make_shared<MaxPool2d>(2));
        channels = width;
        stage_ends_.emplace_back(width == 32 ? "conv1" : "conv2", size());
    }
    const int64_t side = o.image_size / 4;
    push_back(std::make_shared<Flatten>());
    auto fc1 = push_back(std::make_shared<Linear>(channels * side * side, 128));
    push_back(std::make_shared<ReLU>());
    if (o.dropout > 0) push_back(std::make_shared<Dropout>(o.dropout))->generator = gen;
    stage_ends_.emplace_back("fc1", size());
    auto fc2 = push_back(std::make_shared<Linear>(128, o.num_classes));
    stage_ends_.emplace_back("fc2", size());
    if (gen) {  // Linear draws from the default generator at construction; redraw from gen
        fc1->reset_parameters(gen);
        fc2->reset_parameters(gen);
    }
}

std::vector<Stage> SmallCnn::stages() {
    std::vector<Stage> out;
    size_t begin = 0;
    for (const auto& [name, end] : stage_ends_) {
        Stage stage{name, {}, nullptr};
        for (size_t i = begin; i < end; ++i) stage.modules.push_back(std::to_string(i));
        stage.forward = [this, begin, end = end](const Tensor& x) {
            Tensor h = x;
            for (size_t i = begin; i < end; ++i) h = (*(*this)[int64_t(i)])(h);
            return h;
        };
        out.push_back(std::move(stage));
        begin = end;
    }
    return out;
}

std::shared_ptr<SmallCnn> small_cnn(const SmallCnnOptions& options) { return std::make_shared<SmallCnn>(options); }

}  // namespace graft::nn::models
