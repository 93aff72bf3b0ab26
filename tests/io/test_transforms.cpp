// Transforms beyond pixel parity (that is test_transforms_parity.cpp): the random
// parameter sampling of RandomResizedCrop, RandomCrop, RandomHorizontalFlip and
// ColorJitter (ranges, fallbacks, torchvision's decisions), determinism per
// (seed, sample index) across threads, views as inputs, and argument errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <thread>

#include "io/transforms/transforms.h"

using namespace graft;
using namespace graft::io::transforms;

namespace {

// A uint8 [H, W, C] image with distinct, position-dependent values.
Tensor pattern(int64_t h, int64_t w, int64_t c) {
    Tensor t = Tensor::empty({h, w, c}, DType::UInt8);
    uint8_t* p = t.data<uint8_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = uint8_t((i * 37 + i / 7) & 0xFF);
    return t;
}

bool same(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           a.contiguous().to_vector<double>() == b.contiguous().to_vector<double>();
}

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("resized_size follows torchvision", "[io][transforms]") {
    using A = std::array<int64_t, 2>;
    CHECK(resized_size(375, 500, Size(256)) == A{256, 341});  // landscape: height is shorter
    CHECK(resized_size(500, 375, Size(256)) == A{341, 256});
    CHECK(resized_size(300, 300, Size(224)) == A{224, 224});
    CHECK(resized_size(100, 1000, Size(50), 200) == A{20, 200});  // longer side capped
    CHECK(resized_size(375, 500, Size(100, 120)) == A{100, 120});
    CHECK(error_of([] { resized_size(10, 10, Size(50), 50); }).find("max_size") != std::string::npos);
    CHECK(error_of([] { Resize r(Size(0)); }).find("positive") != std::string::npos);
}

TEST_CASE("resize and crops accept views and both image kinds", "[io][transforms]") {
    Tensor img = pattern(40, 50, 3);
    Tensor view = crop(img, {5, 7, 20, 30});  // inside: a view
    CHECK(view.storage() == img.storage());
    CHECK(same(resize(view, 13, 11), resize(view.contiguous(), 13, 11)));
    CHECK(same(hflip(view), hflip(view.contiguous())));
    CHECK(same(hflip(hflip(view)), view));
    Tensor t = to_tensor(img);
    Tensor tv = crop(t, {5, 7, 20, 30});
    CHECK(tv.shape() == Shape{3, 20, 30});
    CHECK(same(resize(tv, 13, 11), resize(tv.contiguous(), 13, 11)));
    CHECK(same(to_tensor(view), crop(t, {5, 7, 20, 30}).contiguous()));
    // Identity resize copies.
    CHECK(same(resize(view, 20, 30), view));
    // Grey images keep one channel.
    CHECK(resize(pattern(9, 8, 1), Size(4)).shape() == Shape{4, 4, 1});
}

TEST_CASE("RandomResizedCrop samples windows inside the image with scale and ratio in range",
          "[io][transforms]") {
    RandomResizedCrop rrc(224);
    Generator rng(7);
    const int64_t H = 375, W = 500;
    std::set<int64_t> tops;
    for (int i = 0; i < 500; ++i) {
        CropBox b = rrc.sample(H, W, rng);
        REQUIRE(b.top >= 0);
        REQUIRE(b.left >= 0);
        REQUIRE(b.top + b.height <= H);
        REQUIRE(b.left + b.width <= W);
        const double area = double(b.height * b.width) / double(H * W);
        const double ratio = double(b.width) / double(b.height);
        // Rounding w and h to integers moves area and ratio slightly past the bounds.
        CHECK(area >= 0.08 * 0.95);
        CHECK(area <= 1.0);
        CHECK(ratio >= 0.75 * 0.97);
        CHECK(ratio <= 4.0 / 3.0 * 1.03);
        tops.insert(b.top);
    }
    CHECK(tops.size() > 50);
    Tensor out = rrc(pattern(H, W, 3), rng);
    CHECK(out.shape() == Shape{224, 224, 3});
}

TEST_CASE("RandomResizedCrop falls back to the central crop as torchvision", "[io][transforms]") {
    Generator rng(1);
    // A scale above 1 can never fit: all 10 tries fail.
    RandomResizedCrop never(32, {2.0, 3.0});
    CHECK(never.sample(100, 100, rng) == CropBox{0, 0, 100, 100});                 // ratio 1 is inside
    CHECK(never.sample(100, 400, rng) == CropBox{0, 133, 100, 133});               // too wide: w = round(100 * 4/3)
    CHECK(never.sample(400, 100, rng) == CropBox{133, 0, 133, 100});               // too tall: h = round(100 / 0.75)
    RandomResizedCrop square(32, {2.0, 3.0}, {1.0, 1.0});
    CHECK(square.sample(50, 81, rng) == CropBox{0, 15, 50, 50});
    CHECK(error_of([] { RandomResizedCrop bad(32, {0.5, 0.1}); }).find("scale") != std::string::npos);
}

TEST_CASE("RandomCrop: padding, pad_if_needed and the sampled offsets", "[io][transforms]") {
    Generator rng(3);
    Tensor img = pattern(10, 12, 3);
    RandomCrop plain(10, 12);
    CHECK(same(plain(img, rng), img));  // exact size: the whole image, no draw needed

    RandomCropOptions o;
    o.padding = Padding(2);
    RandomCrop padded(10, 12, o);
    std::set<std::pair<int64_t, int64_t>> offsets;
    for (int i = 0; i < 400; ++i) {
        CropBox b = padded.sample(14, 16, rng);
        offsets.insert({b.top, b.left});
    }
    CHECK(offsets.size() == 25);  // every offset of a 14x16 image for a 10x12 crop

    RandomCropOptions grow;
    grow.pad_if_needed = true;
    grow.fill = {9};
    Tensor out = RandomCrop(16, 20, grow)(img, rng);
    CHECK(out.shape() == Shape{16, 20, 3});

    CHECK(error_of([&] { RandomCrop(16, 20)(img, rng); }).find("larger than input image size") != std::string::npos);
    RandomCropOptions reflect;
    reflect.padding = Padding(20);
    reflect.padding_mode = PadMode::reflect;
    CHECK(error_of([&] { RandomCrop(8, reflect)(img, rng); }).find("too large") != std::string::npos);
}

TEST_CASE("RandomHorizontalFlip: p = 0 never, p = 1 always, p = 0.5 about half", "[io][transforms]") {
    Tensor img = pattern(4, 6, 3);
    Generator rng(11);
    CHECK(same(RandomHorizontalFlip(0.0)(img, rng), img));
    CHECK(same(RandomHorizontalFlip(1.0)(img, rng), hflip(img)));
    int flips = 0;
    RandomHorizontalFlip half;
    for (int i = 0; i < 1000; ++i) flips += !same(half(img, rng), img);
    CHECK(flips > 430);
    CHECK(flips < 570);
    CHECK(error_of([] { RandomHorizontalFlip bad(1.5); }).find("p must be in [0, 1]") != std::string::npos);
}

TEST_CASE("ColorJitter draws an order and factors inside the ranges", "[io][transforms]") {
    ColorJitter jitter(0.4, Jitter(0.5, 1.5), 0.0, 0.1);
    Generator rng(5);
    std::set<std::array<int, 4>> orders;
    for (int i = 0; i < 300; ++i) {
        JitterParams p = jitter.sample(rng);
        std::array<int, 4> sorted = p.order;
        std::sort(sorted.begin(), sorted.end());
        REQUIRE(sorted == std::array<int, 4>{0, 1, 2, 3});
        orders.insert(p.order);
        REQUIRE(p.brightness);
        CHECK(*p.brightness >= 0.6);
        CHECK(*p.brightness <= 1.4);
        REQUIRE(p.contrast);
        CHECK(*p.contrast >= 0.5);
        CHECK(*p.contrast <= 1.5);
        CHECK(!p.saturation);  // 0 turns it off, as torchvision's None
        REQUIRE(p.hue);
        CHECK(std::fabs(*p.hue) <= 0.1);
    }
    CHECK(orders.size() == 24);
    // Brightness 2 clips its lower end at 0.
    CHECK(ColorJitter(2.0).repr() == "ColorJitter(brightness=(0, 3), contrast=None, saturation=None, hue=None)");
    CHECK(error_of([] { ColorJitter(0, 0, 0, 0.6); }).find("hue values should be between") != std::string::npos);
    CHECK(error_of([] { ColorJitter(-0.1); }).find("non negative") != std::string::npos);
    Tensor out = jitter(pattern(8, 9, 3), rng);
    CHECK(out.shape() == Shape{8, 9, 3});
    CHECK(error_of([&] { jitter(to_tensor(pattern(8, 9, 3)), rng); }).find("before ToTensor") != std::string::npos);
}

TEST_CASE("a pipeline is reproducible per (seed, index), in any thread", "[io][transforms]") {
    TransformPtr pipeline = compose({make<RandomResizedCrop>(24), make<RandomHorizontalFlip>(),
                                     make<ColorJitter>(0.4, 0.4, 0.4, 0.1), make<ToTensor>(),
                                     make<Normalize>(kImageNetMean, kImageNetStd)});
    Tensor img = pattern(40, 50, 3);
    const int n = 16;
    std::vector<Tensor> sequential;
    for (int i = 0; i < n; ++i) {
        Generator g = sample_generator(42, uint64_t(i));
        sequential.push_back((*pipeline)(img, g));
    }
    CHECK(sequential[0].shape() == Shape{3, 24, 24});
    CHECK(!same(sequential[0], sequential[1]));  // different samples, different draws
    std::vector<Tensor> threaded(n);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = n - 1 - t; i >= 0; i -= 4) {  // other order, other threads
                Generator g = sample_generator(42, uint64_t(i));
                threaded[size_t(i)] = (*pipeline)(img, g);
            }
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < n; ++i) CHECK(same(threaded[size_t(i)], sequential[size_t(i)]));
    Generator other = sample_generator(43, 0);
    CHECK(!same((*pipeline)(img, other), sequential[0]));
}

TEST_CASE("transform arguments are checked with clear errors", "[io][transforms]") {
    Tensor img = pattern(6, 5, 3);
    CHECK(error_of([&] { normalize(img, {0.5}, {0.5}); }).find("apply ToTensor first") != std::string::npos);
    CHECK(error_of([&] { normalize(to_tensor(img), {0.5}, {0.0}); }).find("std evaluated to zero") !=
          std::string::npos);
    CHECK(error_of([&] { normalize(to_tensor(img), {0.5, 0.5}, {1.0}); }).find("mean has 2 values") !=
          std::string::npos);
    CHECK(error_of([&] { resize(Tensor::empty({6, 5, 2}, DType::UInt8), 3, 3); }).find("C in {1, 3, 4}") !=
          std::string::npos);
    CHECK(error_of([&] { to_tensor(Tensor::empty({6, 5}, DType::UInt8)); }).find("to_tensor") != std::string::npos);
    CHECK(error_of([&] { adjust_hue(img, 0.7); }).find("not in [-0.5, 0.5]") != std::string::npos);
    CHECK(error_of([&] { pad(img, Padding(1), {1, 2}); }).find("fill has 2 values") != std::string::npos);
    CHECK(error_of([&] { Grayscale(2); }).find("1 or 3") != std::string::npos);
    CHECK(compose({make<Resize>(Size(8)), make<CenterCrop>(4)})->repr() ==
          "Compose(\n    Resize(size=8, interpolation=bilinear, max_size=None, antialias=True)\n"
          "    CenterCrop(size=(4, 4))\n)");
}

TEST_CASE("ToTensor + Normalize fused in Compose equals the two steps bit for bit", "[io][transforms]") {
    Tensor img = pattern(13, 17, 3);
    Tensor view = crop(img, {2, 3, 9, 11});
    for (const Tensor& x : {img, view}) {
        Tensor two_steps = normalize(to_tensor(x), kImageNetMean, kImageNetStd);
        CHECK(same(to_tensor_normalized(x, kImageNetMean, kImageNetStd), two_steps));
        TransformPtr fused = compose({make<ToTensor>(), make<Normalize>(kImageNetMean, kImageNetStd)});
        CHECK(same((*fused)(x), two_steps));
    }
    Tensor grey = pattern(5, 4, 1);
    CHECK(same(to_tensor_normalized(grey, {0.5}, {0.25}), normalize(to_tensor(grey), {0.5}, {0.25})));
    CHECK(error_of([&] { to_tensor_normalized(img, {0.5}, {0.0}); }).find("std evaluated to zero") !=
          std::string::npos);
}

TEST_CASE("absurd crop and pad sizes are errors, not allocations", "[io][transforms]") {
    Tensor img = pattern(6, 5, 3);
    CHECK(error_of([&] { center_crop(img, 1000000, 1000000); }).find("too large") != std::string::npos);
    CHECK(error_of([&] { crop(img, {0, 0, 1 << 20, 1 << 20}); }).find("too large") != std::string::npos);
    CHECK(error_of([&] { pad(img, Padding(int64_t(1) << 40)); }).find("too large") != std::string::npos);
}
