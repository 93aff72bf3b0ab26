// Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes) from its four
// IDX files. Debian's dataset-fashion-mnist package installs them gzipped in
// kFashionMnistDir; a directory holding the same names without .gz also works.
//
//   auto train = graft::io::load_fashion_mnist();          // 60,000 items
//   auto test  = graft::io::load_fashion_mnist(dir, false); // 10,000 items
//   // train.images [N, 28, 28] uint8 (0 = background), train.labels [N] int64
//
// Not here: normalisation, batching, shuffling (the caller's or a DataLoader's job).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace graft::io {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnist {
    Tensor images;  // [N, 28, 28] uint8
    Tensor labels;  // [N] int64, each in 0..9
    // Label -> name, in the order of the dataset's documentation.
    static constexpr std::array<std::string_view, 10> classes = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
};

// Reads the train (60,000) or test "t10k" (10,000) split from `dir`. Throws
// graft::Error naming the file when one is missing or its shape, dtype or
// labels are not Fashion-MNIST's.
FashionMnist load_fashion_mnist(const std::string& dir = kFashionMnistDir, bool train = true);

}  // namespace graft::io
