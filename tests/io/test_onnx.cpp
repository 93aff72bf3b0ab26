// read_onnx on files torch.onnx.export wrote (Debian's torch 1.13, generated at
// test time by tests/fixtures/make_onnx_fixtures.py): every initializer equals
// the state_dict value byte for byte and onnx.numpy_helper's reading of the same
// file; external data in one file and in a file per tensor; typed fields of
// every dtype Graft has; Constant nodes; read_weights' dispatch.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "graft.h"
#include "io/formats/onnx.h"
#include "io/formats/read_weights.h"
#include "io/formats/safetensors.h"
#include "tests/io/test_onnx_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace graft;
namespace fs = std::filesystem;

namespace {

bool same_bytes(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    const size_t n = size_t(a.numel()) * a.element_size();
    return n == 0 || std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), n) == 0;
}

// Every entry of `got` equals the entry of `want` with its name, in the same order.
void require_same(const NamedTensors& got, const NamedTensors& want) {
    REQUIRE(got.names() == want.names());
    for (const auto& [name, t] : got) {
        INFO(name);
        CHECK(same_bytes(t, want.at(name)));
    }
}

std::string fixture(const std::string& name) { return graft::testing::onnx_fixture_dir() + "/" + name; }

}  // namespace

TEST_CASE("read_onnx: torch export with TrainingMode.PRESERVE keeps every state_dict name and value", "[io][onnx]") {
    REQUIRE(io::onnx_supported());
    const NamedTensors onnx = io::read_onnx(fixture("small_train.onnx"));
    const NamedTensors state = io::read_safetensors(fixture("small.safetensors"));
    // The state_dict minus num_batches_tracked (no ONNX op uses it), in state_dict order.
    NamedTensors want;
    for (const auto& [name, t] : state)
        if (name != "bn.num_batches_tracked") want.set(name, t);
    require_same(onnx, want);
    CHECK(onnx.metadata.at("format") == "onnx");
    CHECK(onnx.metadata.at("producer_name") == "pytorch");
    CHECK(onnx.metadata.at("ir_version") == "7");
    CHECK(onnx.metadata.at("opset") == "13");
    require_same(onnx, io::read_safetensors(fixture("small_train.onnx.ref.safetensors")));
    // A tensor viewing the parsed message keeps it alive after the NamedTensors is gone.
    Tensor kept;
    {
        const NamedTensors again = io::read_onnx(fixture("small_train.onnx"));
        kept = again.at("fc.weight");
    }
    CHECK(same_bytes(kept, state.at("fc.weight")));
}

TEST_CASE("read_onnx: eval export (BatchNorm folded into the Conv by torch), initializers as inputs or not",
          "[io][onnx]") {
    const NamedTensors state = io::read_safetensors(fixture("small.safetensors"));
    for (const char* file : {"small_eval.onnx", "small_inputs.onnx"}) {
        INFO(file);
        const NamedTensors onnx = io::read_onnx(fixture(file));
        require_same(onnx, io::read_safetensors(fixture(std::string(file) + ".ref.safetensors")));
        // The Linear keeps its names; the folded conv is onnx::Conv_<n>.
        CHECK(same_bytes(onnx.at("fc.weight"), state.at("fc.weight")));
        CHECK(same_bytes(onnx.at("fc.bias"), state.at("fc.bias")));
        CHECK(onnx.size() == 4);
    }
}

TEST_CASE("read_onnx: torchvision resnet18 (random weights) equals its state_dict", "[io][onnx]") {
    const NamedTensors onnx = io::read_onnx(fixture("resnet18.onnx"));
    const NamedTensors state = io::read_safetensors(fixture("resnet18.safetensors"));
    NamedTensors want;
    for (const auto& [name, t] : state)
        if (name.find("num_batches_tracked") == std::string::npos) want.set(name, t);
    CHECK(want.size() == 102);
    require_same(onnx, want);
    // read_weights picks the reader by the extension and by content.
    const NamedTensors again = io::read_weights(fixture("resnet18.onnx"));
    CHECK(again.metadata.at("format") == "onnx");
    CHECK(again.size() == 102);
}

TEST_CASE("read_onnx: external data (one file; a file per tensor) equals the embedded model", "[io][onnx]") {
    const NamedTensors embedded = io::read_onnx(fixture("small_eval.onnx"));
    require_same(io::read_onnx(fixture("ext/small.onnx")), embedded);
    require_same(io::read_onnx(fixture("ext_many/small.onnx")), embedded);
    // offsets, lengths, and a symlink that stays inside the folder
    const NamedTensors ok = io::read_onnx(fixture("hostile/ok_external.onnx"));
    REQUIRE(ok.names() == std::vector<std::string>{"w", "w2", "w3"});
    CHECK(ok.at("w").shape() == Shape{4, 4});
    CHECK(ok.at("w").to_vector<float>()[15] == 15.0f);
    CHECK(ok.at("w2").to_vector<float>() == std::vector<float>{2.0f, 3.0f});
    CHECK(ok.at("w3").to_vector<float>() == std::vector<float>{14.0f, 15.0f});
}

TEST_CASE("read_onnx: typed fields of every Graft dtype, scalars, empty tensors, Constant nodes", "[io][onnx]") {
    std::ifstream in(fixture("typed.json"));
    const nlohmann::json expected = nlohmann::json::parse(in);
    const NamedTensors t = io::read_onnx(fixture("typed.onnx"));
    CHECK(t.names() == expected["order"].get<std::vector<std::string>>());
    const std::map<std::string, DType> dtypes = {
        {"f32", DType::Float32}, {"f64", DType::Float64}, {"i64", DType::Int64},  {"i32", DType::Int32},
        {"u8", DType::UInt8},    {"b", DType::Bool},       {"f16", DType::Float16}, {"bf16", DType::BFloat16},
        {"scalar", DType::Float32}, {"empty", DType::Float32}, {"raw_f16", DType::Float16}};
    for (const auto& [name, dtype] : dtypes) {
        INFO(name);
        CHECK(t.at(name).dtype() == dtype);
        const auto want = expected["values"][name].get<std::vector<double>>();
        if (dtype == DType::Int64) {
            CHECK(t.at(name).to_vector<int64_t>() == expected["values"][name].get<std::vector<int64_t>>());
        } else {
            CHECK(t.at(name).to_vector<double>() == want);
        }
    }
    CHECK(t.at("scalar").shape() == Shape{});
    CHECK(t.at("empty").shape() == Shape{0, 3});
    CHECK(t.at("f16").shape() == Shape{2, 3});

    const NamedTensors f = io::read_onnx(fixture("typed.onnx"), {.convert_to_float32 = true});
    for (const char* name : {"f16", "bf16", "f64", "raw_f16"}) CHECK(f.at(name).dtype() == DType::Float32);
    CHECK(f.at("i64").dtype() == DType::Int64);

    CHECK_FALSE(t.contains("c_tensor"));
    const NamedTensors c = io::read_onnx(fixture("typed.onnx"), {.include_constants = true});
    CHECK(c.at("c_tensor").to_vector<float>() == std::vector<float>{9.0f, -9.0f});
    CHECK(c.at("c_float").shape() == Shape{});
    CHECK(c.at("c_float").item<float>() == 2.5f);
    CHECK(c.at("c_ints").to_vector<int64_t>() == std::vector<int64_t>{3, 4, 5});
    CHECK_FALSE(c.contains("c_string"));  // strings: Graft has no dtype; not weights either
    CHECK(c.size() == t.size() + 3);
}

TEST_CASE("read_weights: ONNX detected by extension and by content", "[io][onnx]") {
    graft::testing::TempDir dir;
    const std::string renamed = dir.file("model.bin");
    fs::copy_file(fixture("small_train.onnx"), renamed);
    CHECK(io::detect_weights_format(renamed) == "onnx");
    CHECK(io::detect_weights_format(fixture("typed.onnx")) == "onnx");
    require_same(io::read_weights(renamed), io::read_onnx(fixture("small_train.onnx")));
    io::WeightsReadOptions to_f32;
    to_f32.to_float32 = true;
    CHECK(io::read_weights(fixture("typed.onnx"), to_f32).at("f16").dtype() == DType::Float32);
}
