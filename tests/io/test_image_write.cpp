// io/image/image_write: PNG and JPEG encodings decode back (through stb_image,
// instantiated privately here) to the pixels written; bad tensors are refused
// with messages naming the file and the shape; writes leave no temporaries.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "graft.h"
#include "io/image/image_write.h"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

using namespace graft;
namespace fs = std::filesystem;

namespace {

Tensor gradient_image(int64_t h, int64_t w, int64_t c) {
    std::vector<uint8_t> px(size_t(h * w * c));
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (int64_t k = 0; k < c; ++k) px[size_t((y * w + x) * c + k)] = uint8_t((y * 7 + x * 13 + k * 50) & 255);
    return from_vector(px, {h, w, c});
}

struct Decoded {
    int w = 0, h = 0, c = 0;
    std::vector<uint8_t> px;
};

Decoded decode(const std::vector<uint8_t>& bytes) {
    Decoded d;
    unsigned char* p = stbi_load_from_memory(bytes.data(), int(bytes.size()), &d.w, &d.h, &d.c, 0);
    REQUIRE(p != nullptr);
    d.px.assign(p, p + size_t(d.w) * d.h * d.c);
    stbi_image_free(p);
    return d;
}

std::vector<uint8_t> read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

fs::path temp_dir() {
    fs::path dir = fs::temp_directory_path() / ("graft_image_write_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("encode_png round-trips every channel count exactly", "[io][image]") {
    for (int64_t c : {1, 2, 3, 4}) {
        Tensor img = gradient_image(17, 23, c);
        Decoded d = decode(io::encode_png(img));
        CHECK(d.w == 23);
        CHECK(d.h == 17);
        CHECK(d.c == c);
        CHECK(d.px == img.to_vector<uint8_t>());
    }
    Tensor grey = gradient_image(5, 9, 1).reshape({5, 9});
    Decoded d = decode(io::encode_png(grey));
    CHECK((d.w == 9 && d.h == 5 && d.c == 1));
}

TEST_CASE("encode_png takes non-contiguous views", "[io][image]") {
    Tensor big = gradient_image(20, 30, 3);
    Tensor crop = big.slice(0, 2, 12).slice(1, 5, 25, 2);  // [10, 10, 3], strided
    REQUIRE(!crop.is_contiguous());
    Decoded d = decode(io::encode_png(crop));
    CHECK((d.w == 10 && d.h == 10 && d.c == 3));
    CHECK(d.px == crop.to_vector<uint8_t>());
}

TEST_CASE("write_png and write_jpeg write decodable files and no temporaries", "[io][image]") {
    fs::path dir = temp_dir();
    Tensor img = gradient_image(32, 48, 3);
    io::write_png((dir / "a.png").string(), img);
    io::write_jpeg((dir / "a.jpg").string(), img, 95);
    std::vector<uint8_t> png = read_all(dir / "a.png");
    REQUIRE(png.size() > 8);
    const std::vector<uint8_t> signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(std::vector<uint8_t>(png.begin(), png.begin() + 8) == signature);
    CHECK(decode(png).px == img.to_vector<uint8_t>());
    Decoded jpg = decode(read_all(dir / "a.jpg"));
    CHECK((jpg.w == 48 && jpg.h == 32 && jpg.c == 3));
    // Lossy, but close on a smooth image at quality 95.
    std::vector<uint8_t> ref = img.to_vector<uint8_t>();
    double err = 0;
    for (size_t i = 0; i < ref.size(); ++i) err += std::abs(int(ref[i]) - int(jpg.px[i]));
    CHECK(err / double(ref.size()) < 8.0);
    // Overwriting keeps one file; nothing else is left in the folder.
    io::write_png((dir / "a.png").string(), gradient_image(4, 4, 1));
    CHECK(decode(read_all(dir / "a.png")).w == 4);
    int files = 0;
    for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
    CHECK(files == 2);
    fs::remove_all(dir);
}

TEST_CASE("image writers refuse bad tensors and paths with clear messages", "[io][image]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(io::write_png("x.png", zeros({4, 4, 3})), Contains("x.png") && Contains("uint8"));
    CHECK_THROWS_WITH(io::encode_png(zeros({4, 4, 5}, DType::UInt8)), Contains("[4, 4, 5]"));
    CHECK_THROWS_WITH(io::encode_png(zeros({0, 4, 3}, DType::UInt8)), Contains("empty"));
    CHECK_THROWS_WITH(io::encode_png(zeros({4}, DType::UInt8)), Contains("[H, W"));
    CHECK_THROWS_WITH(io::encode_jpeg(zeros({4, 4, 4}, DType::UInt8)), Contains("alpha"));
    CHECK_THROWS_WITH(io::encode_jpeg(zeros({4, 4, 3}, DType::UInt8), 0), Contains("quality"));
    CHECK_THROWS_WITH(io::write_png("/nonexistent-dir/x.png", zeros({4, 4, 3}, DType::UInt8)),
                      Contains("/nonexistent-dir/x.png"));
}

TEST_CASE("chw_to_hwc_uint8 clamps, rounds and moves channels last", "[io][image]") {
    // [C=3, H=1, W=2]
    Tensor chw = from_vector<float>({0.0f, 1.0f, 0.5f, -2.0f, 2.0f, std::nanf("")}, {3, 1, 2});
    Tensor hwc = io::chw_to_hwc_uint8(chw);
    CHECK(hwc.shape() == Shape{1, 2, 3});
    CHECK(hwc.to_vector<uint8_t>() == std::vector<uint8_t>{0, 128, 255, 255, 0, 0});
    CHECK_THROWS_WITH(io::chw_to_hwc_uint8(zeros({2, 3, 3})), Catch::Matchers::Contains("[2, 3, 3]"));
    CHECK_THROWS(io::chw_to_hwc_uint8(zeros({3, 3, 3}, DType::UInt8)));
}
