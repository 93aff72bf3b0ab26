// The model zoo by name: builds a classification model from its name, as a
// command line or a config file names it, together with the preprocessing its
// pretrained weights expect (nn/models/preprocessing.h).
//
//   auto entry = nn::models::zoo_model("efficientnet_lite0", 1000);
//   transfer::load_pretrained(*entry.model, "efficientnet-lite0-57934424.pth");
//   // entry.preprocessing: resize 256, crop 224, mean/std for these weights
//
// Names: resnet18, resnet34, resnet50 (torchvision names), mobilenet_v2
// (torchvision names), efficientnet_lite0 (efficientnet_lite_pytorch names, TF
// lite normalisation). An unknown name is a graft::Error listing the known ones.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/models/preprocessing.h"
#include "nn/module.h"

namespace graft::nn::models {

struct ZooModel {
    std::string name;
    std::shared_ptr<Module> model;
    Preprocessing preprocessing;
};

// The names zoo_model() accepts, in a fixed order.
const std::vector<std::string>& zoo_model_names();

// Builds `name` with a head of `num_classes` outputs (freshly initialised: load
// weights afterwards). `image_size` (0: the model's default) matters only to
// models whose padding is fixed from the input size (EfficientNet-Lite's static
// TF "SAME"); the others take any size.
ZooModel zoo_model(const std::string& name, int64_t num_classes = 1000, int64_t image_size = 0);

}  // namespace graft::nn::models
