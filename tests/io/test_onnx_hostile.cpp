// read_onnx on files that must be refused (written by make_onnx_fixtures.py at
// test time, or cut here from good ones): paths escaping the model's folder,
// lying offsets and lengths, wrong data sizes, impossible shapes, types Graft
// lacks, truncated protobuf. Each is a graft::Error naming the file, the tensor
// and the problem; none allocates what the file does not hold. Also the Debian
// libonnx-testdata pytorch-converted cases.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "graft.h"
#include "io/formats/onnx.h"
#include "io/formats/safetensors.h"
#include "tests/io/test_onnx_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

std::string fixture(const std::string& name) { return graft::testing::onnx_fixture_dir() + "/" + name; }

void require_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
    try {
        fn();
        FAIL("no error");
    } catch (const Error& e) {
        for (const std::string& p : parts) CHECK_THAT(e.what(), Contains(p));
    }
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("read_onnx: external data that leaves the model's folder is refused", "[io][onnx]") {
    const auto hostile = [](const std::string& c) { return fixture("hostile/" + c + ".onnx"); };
    require_error([&] { io::read_onnx(hostile("dotdot")); },
                  {"dotdot.onnx", "initializer 0 'w'", "'../outside.bin'", "contains '..'"});
    require_error([&] { io::read_onnx(hostile("absolute")); }, {"'w'", "'/etc/passwd'", "absolute path"});
    require_error([&] { io::read_onnx(hostile("symlink_out")); },
                  {"'w'", "'sub/link.bin'", "outside the model's folder"});
    require_error([&] { io::read_onnx(hostile("missing_file")); }, {"'w'", "nope.bin"});
    require_error([&] { io::read_onnx(hostile("no_location")); }, {"'w'", "without a \"location\""});
}

TEST_CASE("read_onnx: lying offsets, lengths and sizes are refused before allocating", "[io][onnx]") {
    const auto hostile = [](const std::string& c) { return fixture("hostile/" + c + ".onnx"); };
    require_error([&] { io::read_onnx(hostile("past_eof")); }, {"'w'", "offset 8 + length 64", "(64 bytes)"});
    require_error([&] { io::read_onnx(hostile("offset_overflow")); }, {"'w'", "offset 18446744073709551612"});
    require_error([&] { io::read_onnx(hostile("offset_text")); }, {"'w'", "offset '-8'", "decimal"});
    require_error([&] { io::read_onnx(hostile("length_mismatch")); }, {"'w'", "holds 8 bytes", "[3]", "needs 12"});
    require_error([&] { io::read_onnx(hostile("raw_size")); }, {"'w'", "raw_data holds 20 bytes", "[2, 3]", "needs 24"});
    require_error([&] { io::read_onnx(hostile("huge_dims")); }, {"'w'", "too large"});
    require_error([&] { io::read_onnx(hostile("huge_product")); }, {"'w'", "too large"});
    require_error([&] { io::read_onnx(hostile("negative_dim")); }, {"'w'", "dims[0] is -1"});
    require_error([&] { io::read_onnx(hostile("typed_count")); }, {"'w'", "float_data holds 2 values", "needs 3"});
    require_error([&] { io::read_onnx(hostile("two_sources")); }, {"'w'", "2 places at once"});
    require_error([&] { io::read_onnx(hostile("wrong_field")); }, {"'w'", "must be in float_data"});
    require_error([&] { io::read_onnx(hostile("bad_bool")); }, {"'w'", "BOOL element 1 is byte 2"});
    require_error([&] { io::read_onnx(hostile("bad_uint8")); }, {"'w'", "int32_data[0] = 300", "UINT8"});
}

TEST_CASE("read_onnx: types, names and structures Graft does not read are named", "[io][onnx]") {
    const auto hostile = [](const std::string& c) { return fixture("hostile/" + c + ".onnx"); };
    require_error([&] { io::read_onnx(hostile("int8")); }, {"'w'", "ONNX type INT8 has no Graft dtype"});
    require_error([&] { io::read_onnx(hostile("string")); }, {"'w'", "STRING"});
    require_error([&] { io::read_onnx(hostile("duplicate")); }, {"initializer 1 'w'", "appears twice"});
    require_error([&] { io::read_onnx(hostile("no_name")); }, {"initializer 0 has no name"});
    require_error([&] { io::read_onnx(hostile("sparse")); }, {"sparse initializer", "'sv'"});
    require_error([&] { io::read_onnx(hostile("no_graph")); }, {"no_graph.onnx", "has no graph"});
    CHECK(io::read_onnx(hostile("constant_type")).empty());  // Constant nodes are only read when asked
    require_error([&] { io::read_onnx(hostile("constant_type"), {.include_constants = true}); },
                  {"Constant node 'bc'", "'value_float' has type INTS, expected FLOAT"});
    require_error([&] { io::read_onnx(fixture("no_such.onnx")); }, {"no_such.onnx", "cannot open"});
    require_error([&] { io::read_onnx(fixture("hostile")); }, {"not a regular file"});
}

TEST_CASE("read_onnx: a truncated model is an error or a consistent prefix, never a crash", "[io][onnx]") {
    const std::string bytes = read_bytes(fixture("small_train.onnx"));
    REQUIRE(bytes.size() > 1000);
    graft::testing::TempDir dir;
    int refused = 0;
    for (size_t len = 0; len < bytes.size(); len += (len < 64 ? 1 : 37)) {
        const std::string path = dir.write("cut.onnx", bytes.substr(0, len));
        try {
            const NamedTensors t = io::read_onnx(path);
            // Only a cut after the whole graph can parse; then every weight is there.
            CHECK(t.size() == 8);
        } catch (const Error& e) {
            ++refused;
            CHECK_THAT(e.what(), Contains("cut.onnx"));
        }
    }
    CHECK(refused > 20);
    // Cut in the middle of the graph: protobuf itself refuses.
    const std::string path = dir.write("cut.onnx", bytes.substr(0, bytes.size() / 2));
    require_error([&] { io::read_onnx(path); }, {"cut.onnx", "not a valid ONNX protobuf"});
    // Random bytes, and a text file named .onnx.
    require_error([&] { io::read_onnx(dir.write("text.onnx", "hello, this is not protobuf\n")); }, {"text.onnx"});
}

TEST_CASE("read_onnx: lying protobuf lengths and flipped bytes: an Error or a load, never a crash", "[io][onnx]") {
    graft::testing::TempDir dir;
    // fc.weight's raw_data (field 9, 2880 bytes: tag 0x4a, varint c0 16) claims 16383 bytes.
    const std::string bytes = read_bytes(fixture("small_train.onnx"));
    const std::string tag("\x4a\xc0\x16", 3);
    const size_t at = bytes.find(tag);
    REQUIRE(at != std::string::npos);
    std::string lying = bytes;
    lying.replace(at, 3, std::string("\x4a\xff\x7f", 3));
    require_error([&] { io::read_onnx(dir.write("lying.onnx", lying)); }, {"lying.onnx", "not a valid ONNX protobuf"});
    // Every byte of the typed-fields model set to 0x00 and to 0xff.
    const std::string typed = read_bytes(fixture("typed.onnx"));
    int loaded = 0, refused = 0;
    for (size_t i = 0; i < typed.size(); ++i) {
        for (char v : {'\x00', '\xff'}) {
            std::string b = typed;
            b[i] = v;
            try {
                const NamedTensors t = io::read_onnx(dir.write("flip.onnx", b), {.include_constants = true});
                for (const auto& [name, x] : t) CHECK(x.numel() >= 0);
                ++loaded;
            } catch (const Error& e) {
                CHECK_THAT(e.what(), Contains("flip.onnx"));
                ++refused;
            }
        }
    }
    CHECK(refused > 100);
    CHECK(loaded > 0);
}

TEST_CASE("read_onnx: Debian libonnx-testdata pytorch-converted cases whose operators the zoo covers",
          "[io][onnx]") {
    std::ifstream in(fixture("testdata.json"));
    const nlohmann::json index = nlohmann::json::parse(in);
    const auto& cases = index["cases"];
    // 35 of the 82 cases in libonnx-testdata 1.12.0: Conv 1d/2d/3d, BatchNorm, Linear, Embedding.
    CHECK(cases.size() >= 30);
    size_t tensors = 0;
    for (const auto& c : cases) {
        const std::string name = c["case"];
        INFO(name);
        const NamedTensors got = io::read_onnx(c["model"].get<std::string>());
        const NamedTensors want = io::read_safetensors(fixture("testdata/" + name + ".safetensors"));
        REQUIRE(got.names() == c["names"].get<std::vector<std::string>>());
        for (const auto& [n, t] : got) {
            const Tensor& w = want.at(n);
            REQUIRE(t.dtype() == w.dtype());
            REQUIRE(t.shape() == w.shape());
            CHECK(std::memcmp(t.raw_data(), w.raw_data(), size_t(t.numel()) * t.element_size()) == 0);
            ++tensors;
        }
        CHECK(got.metadata.at("ir_version") == std::to_string(c["ir_version"].get<int>()));
        CHECK(got.metadata.at("opset") == std::to_string(c["opset"].get<int>()));
    }
    CHECK(tensors > 50);
}
