#include "nn/models/zoo.h"

#include "core/error.h"
#include "nn/models/efficientnet_lite.h"
#include "nn/models/mobilenet_v2.h"
#include "nn/models/resnet.h"

namespace graft::nn::models {

const std::vector<std::string>& zoo_model_names() {
    static const std::vector<std::string> names{"resnet18", "resnet34", "resnet50", "mobilenet_v2",
                                                "efficientnet_lite0"};
    return names;
}

ZooModel zoo_model(const std::string& name, int64_t num_classes, int64_t image_size) {
    check(num_classes > 0, "zoo_model", "num_classes must be positive, got ", num_classes, " for ", name);
    check(image_size >= 0, "zoo_model", "image_size must be >= 0, got ", image_size, " for ", name);
    if (name == "resnet18") return {name, resnet18({.num_classes = num_classes}), ResNet::preprocessing()};
    if (name == "resnet34") return {name, resnet34({.num_classes = num_classes}), ResNet::preprocessing()};
    if (name == "resnet50") return {name, resnet50({.num_classes = num_classes}), ResNet::preprocessing()};
    if (name == "mobilenet_v2")
        return {name, mobilenet_v2({.num_classes = num_classes}), MobileNetV2::preprocessing()};
    if (name == "efficientnet_lite0")
        return {name, efficientnet_lite0({.num_classes = num_classes, .image_size = image_size > 0 ? image_size : 224}),
                efficientnet_lite_preprocessing()};
    std::string known;
    for (const auto& n : zoo_model_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error(cat_str("zoo_model: unknown model '", name, "'; known models: ", known));
}

}  // namespace graft::nn::models
