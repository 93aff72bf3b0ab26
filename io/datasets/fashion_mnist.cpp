// Fashion-MNIST loader: finds the split's two IDX files, reads them with
// read_idx and checks that they fit together (see fashion_mnist.h).
#include "io/datasets/fashion_mnist.h"

#include <filesystem>

#include "io/datasets/idx.h"

namespace graft::io {

namespace {

// "<dir>/<stem>.gz" if present, else "<dir>/<stem>" (an unpacked download).
std::string find_file(const std::string& dir, const std::string& stem) {
    const std::filesystem::path base = std::filesystem::path(dir) / stem;
    const std::string gz = base.string() + ".gz";
    if (std::filesystem::exists(gz)) return gz;
    if (std::filesystem::exists(base)) return base.string();
    throw Error(cat_str("load_fashion_mnist: neither ", gz, " nor ", base.string(),
                        " exists (Debian: apt-get install dataset-fashion-mnist)"));
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& dir, bool train) {
    const std::string split = train ? "train" : "t10k";
    const std::string images_path = find_file(dir, split + "-images-idx3-ubyte");
    const std::string labels_path = find_file(dir, split + "-labels-idx1-ubyte");
    FashionMnist data;
    data.images = read_idx(images_path);
    const Tensor labels = read_idx(labels_path);

    const Shape& s = data.images.shape();
    check(data.images.dtype() == DType::UInt8 && s.size() == 3 && s[1] == 28 && s[2] == 28,
          "load_fashion_mnist", images_path, ": expected uint8 images [N, 28, 28], got ", describe(data.images));
    check(labels.dtype() == DType::UInt8 && labels.dim() == 1 && labels.size(0) == s[0], "load_fashion_mnist",
          labels_path, ": expected uint8 labels [", s[0], "] to match the images, got ", describe(labels));
    const uint8_t* l = labels.data<uint8_t>();
    for (int64_t i = 0; i < labels.numel(); ++i)
        check(l[i] < FashionMnist::classes.size(), "load_fashion_mnist", labels_path, ": label ", int(l[i]),
              " at index ", i, " is not a class (0..9)");
    data.labels = labels.to(DType::Int64);
    return data;
}

}  // namespace graft::io
