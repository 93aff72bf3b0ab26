// Image decoding: exact pixels for lossless files (PNG grey/RGB/RGBA, BMP, GIF)
// against PIL, JPEG against PIL/libjpeg within a measured tolerance, channel
// conversion, header-only info, and every kind of bad input as a graft::Error
// that names the file.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "io/image/image_read.h"
#include "tests/io/test_transforms_fixture.h"

using namespace graft;
using namespace graft::io;
using graft::testing::fixture_path;
using graft::testing::fixture_tensor;
using graft::testing::transform_fixture;

namespace {

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Diff {
    int max = 0;
    double mean = 0;
};
Diff diff_u8(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const Tensor ac = a.contiguous(), bc = b.contiguous();  // alive while read
    const uint8_t* x = ac.data<uint8_t>();
    const uint8_t* y = bc.data<uint8_t>();
    Diff d;
    for (int64_t i = 0; i < a.numel(); ++i) {
        int e = std::abs(int(x[i]) - int(y[i]));
        d.max = std::max(d.max, e);
        d.mean += e;
    }
    d.mean /= double(a.numel());
    return d;
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

TEST_CASE("read_image: lossless files equal PIL's pixels", "[io][image]") {
    for (const auto& c : transform_fixture().at("decode")) {
        if (!c.at("exact").get<bool>()) continue;
        const std::string file = c.at("file").get<std::string>();
        INFO(file);
        Tensor expected = fixture_tensor(c);
        Tensor got = read_image(fixture_path(file));
        CHECK(got.dtype() == DType::UInt8);
        REQUIRE(got.shape() == expected.shape());
        CHECK(diff_u8(got, expected).max == 0);
    }
}

// stb_image and libjpeg (PIL) use different IDCTs and colour conversion rounding.
// Measured on the two committed 64x48 crops of china.jpg at quality 90: 4:4:4 max
// 2 levels (mean 0.020), 4:2:0 max 2 levels (mean 0.093; both decoders upsample
// chroma with the same triangle filter). Bounds: max 3 levels, mean 0.25.
TEST_CASE("read_image: JPEG within a few levels of PIL/libjpeg", "[io][image]") {
    for (const auto& c : transform_fixture().at("decode")) {
        if (c.at("exact").get<bool>()) continue;
        const std::string file = c.at("file").get<std::string>();
        Tensor expected = fixture_tensor(c);
        Tensor got = read_image(fixture_path(file), ImageChannels::rgb);
        Diff d = diff_u8(got, expected);
        INFO(file << ": max " << d.max << ", mean " << d.mean);
        CHECK(d.max <= 3);
        CHECK(d.mean <= 0.25);
    }
}

TEST_CASE("read_image: channel conversions", "[io][image]") {
    const std::string rgba_path = fixture_path("transforms/tiny_rgba.png");
    Tensor rgba = read_image(rgba_path);
    REQUIRE(rgba.shape() == Shape{5, 7, 4});
    Tensor rgb = read_image(rgba_path, ImageChannels::rgb);
    REQUIRE(rgb.shape() == Shape{5, 7, 3});
    CHECK(diff_u8(rgb, rgba.narrow(2, 0, 3)).max == 0);  // alpha dropped

    Tensor grey = read_image(rgba_path, ImageChannels::grey);
    REQUIRE(grey.shape() == Shape{5, 7, 1});
    const uint8_t* px = rgba.data<uint8_t>();
    const uint8_t* g = grey.data<uint8_t>();
    for (int64_t p = 0; p < 35; ++p)  // stb's luma: (77 R + 150 G + 29 B) >> 8
        CHECK(int(g[p]) == (77 * px[4 * p] + 150 * px[4 * p + 1] + 29 * px[4 * p + 2]) >> 8);

    Tensor opaque = read_image(fixture_path("transforms/tiny_rgb.png"), ImageChannels::rgba);
    REQUIRE(opaque.shape() == Shape{5, 7, 4});
    CHECK(opaque.narrow(2, 3, 1).contiguous().to_vector<int64_t>() == std::vector<int64_t>(35, 255));

    Tensor grey3 = read_image(fixture_path("transforms/tiny_grey.png"), ImageChannels::rgb);
    Tensor grey1 = read_image(fixture_path("transforms/tiny_grey.png"));
    REQUIRE(grey1.shape() == Shape{5, 7, 1});
    for (int c = 0; c < 3; ++c) CHECK(diff_u8(grey3.narrow(2, c, 1), grey1).max == 0);

    ImageInfo info = read_image_info(rgba_path);
    CHECK(info.height == 5);
    CHECK(info.width == 7);
    CHECK(info.channels == 4);
}

TEST_CASE("decode_image: in-memory bytes equal the file's decode", "[io][image]") {
    const std::string path = fixture_path("transforms/photo_444.jpg");
    const std::string bytes = file_bytes(path);
    Tensor a = decode_image(bytes.data(), bytes.size(), "photo", ImageChannels::rgb);
    Tensor b = read_image(path, ImageChannels::rgb);
    CHECK(diff_u8(a, b).max == 0);
    Tensor f = image_to_float(a);
    CHECK(f.dtype() == DType::Float32);
    CHECK(f.shape() == a.shape());
    CHECK(f.to_vector<float>()[5] == float(a.to_vector<int64_t>()[5]) / 255.0f);
}

TEST_CASE("decode_image: threads decode concurrently", "[io][image]") {
    const std::string bytes = file_bytes(fixture_path("transforms/photo_420.jpg"));
    Tensor reference = decode_image(bytes.data(), bytes.size(), "photo");
    std::vector<int> max_diff(4, -1);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            int worst = 0;
            for (int i = 0; i < 20; ++i) {
                Tensor x = decode_image(bytes.data(), bytes.size(), "photo");
                const uint8_t* p = x.data<uint8_t>();
                const uint8_t* q = reference.data<uint8_t>();
                for (int64_t k = 0; k < x.numel(); ++k) worst = std::max(worst, std::abs(int(p[k]) - int(q[k])));
            }
            max_diff[size_t(t)] = worst;
        });
    for (auto& t : threads) t.join();
    CHECK(max_diff == std::vector<int>(4, 0));
}

TEST_CASE("read_image: bad input is an Error naming the file and the problem", "[io][image]") {
    const std::string png = file_bytes(fixture_path("transforms/tiny_rgb.png"));
    const std::string jpg = file_bytes(fixture_path("transforms/photo_420.jpg"));

    SECTION("missing file") {
        std::string msg = error_of([] { read_image("/nonexistent/dir/cat.png"); });
        CHECK(msg.find("/nonexistent/dir/cat.png") != std::string::npos);
        CHECK(msg.find("cannot open") != std::string::npos);
    }
    SECTION("empty and unknown bytes") {
        CHECK(error_of([] { decode_image("", 0, "empty.png"); }).find("empty.png: empty") != std::string::npos);
        const std::string text = "this is not an image at all";
        std::string msg = error_of([&] { decode_image(text.data(), text.size(), "notes.txt"); });
        CHECK(msg.find("notes.txt") != std::string::npos);
        CHECK(msg.find("not a readable image") != std::string::npos);
        // Formats outside JPEG/PNG/BMP/GIF are not compiled in.
        const std::string ppm = std::string("P6\n2 2\n255\n") + std::string(12, '\x7f');
        CHECK(error_of([&] { decode_image(ppm.data(), ppm.size(), "x.ppm"); }).find("not a readable image") !=
              std::string::npos);
    }
    SECTION("truncated files, at every cut, in every format") {
        for (const char* file : {"tiny_rgb.png", "tiny_grey.png", "tiny_rgba.png", "tiny_rgb.bmp", "tiny_pal.gif",
                                 "photo_420.jpg", "photo_444.jpg"}) {
            const std::string bytes = file_bytes(fixture_path(std::string("transforms/") + file));
            // A PNG's last 12 bytes are its IEND chunk and a GIF's last byte its trailer;
            // without them every pixel is still there and the image decodes (as in PIL).
            const std::string f = file;
            const size_t end = bytes.size() - (f.ends_with(".png") ? 12 : f.ends_with(".gif") ? 1 : 0);
            int refused = 0;
            for (size_t cut = 0; cut < end; ++cut) {
                std::string msg = error_of([&] { decode_image(bytes.data(), cut, "cut"); });
                refused += msg.rfind("image: cut: ", 0) == 0;
            }
            INFO(file << ": " << refused << " of " << end << " cuts refused");
            CHECK(refused == int(end));
        }
    }
    SECTION("truncated JPEG header and file on disk") {
        const auto dir = std::filesystem::temp_directory_path() / "graft_test_image_read";
        std::filesystem::create_directories(dir);
        const std::string path = (dir / "cut.jpg").string();
        {
            std::ofstream out(path, std::ios::binary);
            out.write(jpg.data(), 100);  // inside the tables, before the scan
        }
        std::string msg = error_of([&] { read_image(path); });
        CHECK(msg.find(path) != std::string::npos);
        std::filesystem::remove_all(dir);
    }
    SECTION("corrupt PNG data") {
        std::string bad = png;
        for (size_t i = 40; i < bad.size() - 12; ++i) bad[i] = char(bad[i] ^ 0x5A);  // scramble the zlib stream
        std::string msg = error_of([&] { decode_image(bad.data(), bad.size(), "scrambled.png"); });
        CHECK(msg.find("scrambled.png") != std::string::npos);
        CHECK(msg.find("decode failed") != std::string::npos);
    }
    SECTION("a JPEG Huffman table with more than 256 codes (stb 2.27 would overflow)") {
        std::string bad = jpg;
        const size_t dht = bad.find("\xFF\xC4");
        REQUIRE(dht != std::string::npos);
        bad[dht + 5 + 15] = char(0xFF);  // 255 more codes of length 16 in the first table
        std::string msg = error_of([&] { decode_image(bad.data(), bad.size(), "huffman.jpg"); });
        CHECK(msg.find("huffman.jpg: corrupt JPEG: a Huffman table declares") != std::string::npos);
        // stb also takes 0xFF fill bytes before the SOI marker (found by fuzz_image).
        const std::string filled = std::string(40, char(0xFF)) + bad.substr(1);
        msg = error_of([&] { decode_image(filled.data(), filled.size(), "filled.jpg"); });
        CHECK(msg.find("filled.jpg: corrupt JPEG: a Huffman table declares") != std::string::npos);
    }
    SECTION("absurd dimensions are refused before decoding") {
        // A grey PNG header claiming 17000 x 17000 pixels (2.9e8 > 2^28; stb itself
        // accepts up to 2^30 bytes), nothing after it.
        std::string huge = file_bytes(fixture_path("transforms/tiny_grey.png")).substr(0, 33);
        auto put32 = [&](size_t at, uint32_t v) {
            for (int k = 0; k < 4; ++k) huge[at + size_t(k)] = char((v >> (24 - 8 * k)) & 0xFF);
        };
        put32(16, 17000);
        put32(20, 17000);
        std::string msg = error_of([&] { decode_image(huge.data(), huge.size(), "huge.png"); });
        CHECK(msg.find("huge.png") != std::string::npos);
        INFO(msg);
        CHECK(msg.find("larger than the limit") != std::string::npos);
    }
}
