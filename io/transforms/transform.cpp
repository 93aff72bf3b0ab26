// Compose, per-sample generators, the draws random transforms build on, and the
// checks that tell a uint8 HWC image from a float CHW tensor image.
#include "io/transforms/transform.h"

#include "io/transforms/to_tensor.h"

#include <cmath>
#include <numeric>

namespace graft::io::transforms {

Tensor Transform::operator()(const Tensor& image) const {
    Generator rng(0);
    return apply(image, rng);
}

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
    for (size_t i = 0; i < transforms_.size(); ++i)
        check(transforms_[i] != nullptr, "Compose", "transform ", i, " is null");
}

Tensor Compose::apply(const Tensor& image, Generator& rng) const {
    Tensor x = image;
    for (size_t i = 0; i < transforms_.size(); ++i) {
        // ToTensor then Normalize: one table lookup per value instead of two passes.
        if (i + 1 < transforms_.size() && dynamic_cast<const ToTensor*>(transforms_[i].get())) {
            if (const auto* norm = dynamic_cast<const Normalize*>(transforms_[i + 1].get())) {
                x = to_tensor_normalized(x, norm->mean(), norm->stddev());
                ++i;
                continue;
            }
        }
        x = transforms_[i]->apply(x, rng);
    }
    return x;
}

std::string Compose::repr() const {
    std::string s = "Compose(\n";
    for (const TransformPtr& t : transforms_) s += "    " + t->repr() + "\n";
    return s + ")";
}

Generator sample_generator(uint64_t seed, uint64_t index) {
    Generator g(seed);
    g.set_state(seed, index << 32);
    return g;
}

namespace {
uint64_t random_u64(Generator& rng) {
    uint64_t counter = rng.advance(2);
    uint32_t words[4];
    philox4x32(rng.seed(), counter / 4, words);
    return (uint64_t(words[1]) << 32) | words[0];
}
}  // namespace

double uniform_real(Generator& rng, double low, double high) {
    double u = double(random_u64(rng) >> 11) * 0x1.0p-53;  // 53 random bits in [0, 1)
    return low + (high - low) * u;
}

int64_t uniform_int(Generator& rng, int64_t low, int64_t high) {
    check(high > low, "uniform_int", "empty range [", low, ", ", high, ")");
    // Modulo of 64 random bits: the bias is below 2^-32 for any image-sized range.
    return low + int64_t(random_u64(rng) % uint64_t(high - low));
}

std::vector<int> permutation(Generator& rng, int n) {
    std::vector<int> p(static_cast<size_t>(std::max(n, 0)));
    std::iota(p.begin(), p.end(), 0);
    for (int i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[size_t(uniform_int(rng, 0, i + 1))]);
    return p;
}

bool is_uint8_image(const Tensor& image, const char* op) {
    check(image.defined(), op, "undefined image");
    if (image.dtype() == DType::UInt8) {
        check(image.dim() == 3 && (image.size(2) == 1 || image.size(2) == 3 || image.size(2) == 4), op,
              "a uint8 image must be [H, W, C] with C in {1, 3, 4}, got ", describe(image));
        check(image.size(0) > 0 && image.size(1) > 0, op, "empty image ", describe(image));
        return true;
    }
    check(image.dtype() == DType::Float32 && image.dim() == 3, op,
          "expects a uint8 [H, W, C] image or a float32 [C, H, W] tensor image, got ", describe(image));
    check(image.size(1) > 0 && image.size(2) > 0, op, "empty image ", describe(image));
    return false;
}

int64_t image_height(const Tensor& image) {
    return image.dtype() == DType::UInt8 ? image.size(0) : image.size(1);
}
int64_t image_width(const Tensor& image) {
    return image.dtype() == DType::UInt8 ? image.size(1) : image.size(2);
}
int64_t image_channels(const Tensor& image) {
    return image.dtype() == DType::UInt8 ? image.size(2) : image.size(0);
}

int64_t round_half_even(double v) { return int64_t(std::nearbyint(v)); }

}  // namespace graft::io::transforms
