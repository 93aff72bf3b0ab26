// small_cnn: the two-conv Fashion-MNIST network of small_cnn.h as a Sequential.
#include "nn/models/small_cnn.h"

#include "nn/layers/activation.h"
#include "nn/layers/conv.h"
#include "nn/layers/dropout.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/layers/pooling.h"

namespace graft::nn::models {

std::shared_ptr<Sequential> small_cnn(const SmallCnnOptions& o) {
    check(o.in_channels > 0 && o.num_classes > 0, "small_cnn", "in_channels and num_classes must be positive, got ",
          o.in_channels, " and ", o.num_classes);
    check(o.image_size >= 4 && o.image_size % 4 == 0, "small_cnn",
          "image_size must be a positive multiple of 4 (two 2x2 pools), got ", o.image_size);
    check(o.dropout >= 0 && o.dropout < 1, "small_cnn", "dropout must be in [0, 1), got ", o.dropout);
    Generator* gen = o.gen;
    auto net = std::make_shared<Sequential>();
    int64_t channels = o.in_channels;
    for (int64_t width : {32, 64}) {
        net->push_back(std::make_shared<Conv2d>(channels, width, 3, Conv2dOptions{.padding = 1, .bias = !o.batch_norm}, gen));
        if (o.batch_norm) net->push_back(std::make_shared<BatchNorm2d>(width));
        net->push_back(std::make_shared<ReLU>());
        net->push_back(std::make_shared<MaxPool2d>(2));
        channels = width;
    }
    const int64_t side = o.image_size / 4;
    net->push_back(std::make_shared<Flatten>());
    auto fc1 = net->push_back(std::make_shared<Linear>(channels * side * side, 128));
    net->push_back(std::make_shared<ReLU>());
    if (o.dropout > 0) net->push_back(std::make_shared<Dropout>(o.dropout))->generator = gen;
    auto fc2 = net->push_back(std::make_shared<Linear>(128, o.num_classes));
    if (gen) {  // Linear draws from the default generator at construction; redraw from gen
        fc1->reset_parameters(gen);
        fc2->reset_parameters(gen);
    }
    return net;
}

}  // namespace graft::nn::models
