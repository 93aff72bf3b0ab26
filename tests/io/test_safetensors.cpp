// safetensors: files written by the official Python library (committed
// fixtures, see tests/fixtures/make_safetensors_fixtures.py), round trips of
// every dtype, byte-identical output to the reference writer, the atomic write
// (including a write that fails half way), sharded checkpoints, and hostile
// files written here byte by byte, each refused with a message naming the file
// and the problem.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graft.h"
#include "io/formats/atomic_file.h"
#include "io/formats/safetensors.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using namespace graft;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(GRAFT_FIXTURES_DIR) + "/safetensors";

// Names in the folder other than `keep` (leftover temporary files).
std::vector<std::string> others(const TempDir& dir, const std::string& keep) {
    std::vector<std::string> out;
    for (const std::string& name : dir.names())
        if (name != keep) out.push_back(name);
    return out;
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

// A file: 8-byte little-endian length, the header as given, then `data`.
std::string raw_file(const std::string& header, const std::string& data, uint64_t declared_length = ~0ull) {
    const uint64_t n = declared_length == ~0ull ? header.size() : declared_length;
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
    return out + header + data;
}

// Every value, as doubles (exact for all the fixture's values), with shape and dtype.
void require_tensor(const Tensor& t, DType dtype, const Shape& shape, const std::vector<double>& values) {
    INFO(describe(t));
    REQUIRE(t.dtype() == dtype);
    REQUIRE(t.shape() == shape);
    if (dtype == DType::Bool) {
        const bool* p = t.contiguous().data<bool>();
        for (size_t i = 0; i < values.size(); ++i) REQUIRE(p[i] == (values[i] != 0));
        return;
    }
    REQUIRE(t.to(DType::Float64).to_vector<double>() == values);
}

std::vector<double> formula(int n, double scale, double shift) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(i * scale + shift);
    return v;
}

// The contents of all_dtypes.safetensors (make_safetensors_fixtures.py: expected()).
void require_all_dtypes(const NamedTensors& t) {
    REQUIRE(t.size() == 11);
    require_tensor(t.at("f32"), DType::Float32, {3, 4}, formula(12, 0.5, -2.0));
    require_tensor(t.at("f64"), DType::Float64, {2, 3}, formula(6, 0.25, 1e10));
    require_tensor(t.at("f16"), DType::Float16, {8}, formula(8, -0.125, 0));
    require_tensor(t.at("bf16"), DType::BFloat16, {5}, formula(5, 3.0, -1.5));
    require_tensor(t.at("i64"), DType::Int64, {4}, formula(4, -1099511627776.0, 7));
    require_tensor(t.at("i32"), DType::Int32, {3, 2}, formula(6, -1000, 3));
    require_tensor(t.at("u8"), DType::UInt8, {10}, formula(10, 25, 0));
    require_tensor(t.at("bool"), DType::Bool, {5}, {1, 0, 0, 1, 1});
    require_tensor(t.at("scalar"), DType::Float32, {}, {3.25});
    require_tensor(t.at("empty"), DType::Float32, {0, 3}, {});
    require_tensor(t.at("empty_i64"), DType::Int64, {2, 0}, {});
}

NamedTensors all_dtypes() {
    NamedTensors t;
    t.set("f32", arange(0, 12, 1, DType::Float32).reshape({3, 4}).mul(scalar_tensor(0.5)).sub(scalar_tensor(2.0)));
    t.set("f64", from_vector(formula(6, 0.25, 1e10), {2, 3}));
    t.set("f16", from_vector(formula(8, -0.125, 0), {8}).to(DType::Float16));
    t.set("bf16", from_vector(formula(5, 3.0, -1.5), {5}).to(DType::BFloat16));
    t.set("i64", from_vector(std::vector<int64_t>{7, 7 - (1ll << 40), 7 - (2ll << 40), 7 - (3ll << 40)}, {4}));
    t.set("i32", from_vector(std::vector<int32_t>{3, -997, -1997, -2997, -3997, -4997}, {3, 2}));
    t.set("u8", from_vector(formula(10, 25, 0), {10}).to(DType::UInt8));
    t.set("bool", from_vector(std::vector<double>{1, 0, 0, 1, 1}, {5}).to(DType::Bool));
    t.set("scalar", scalar_tensor(3.25));
    t.set("empty", zeros({0, 3}));
    t.set("empty_i64", zeros({2, 0}, DType::Int64));
    return t;
}

}  // namespace

TEST_CASE("safetensors: reads the file written by the Python library (mapped and copied)", "[io][safetensors]") {
    for (bool copy : {false, true}) {
        INFO("copy " << copy);
        const NamedTensors t = io::read_safetensors(kFixtures + "/all_dtypes.safetensors", {.copy = copy});
        require_all_dtypes(t);
        REQUIRE(t.metadata.at("format") == "pt");
        REQUIRE_THAT(t.metadata.at("command"), Contains("make_safetensors_fixtures.py"));
    }
}

TEST_CASE("safetensors: round trip of every dtype, scalars, empty and non-contiguous tensors", "[io][safetensors]") {
    TempDir dir("st");
    const std::string path = dir.file("all.safetensors");
    NamedTensors t = all_dtypes();
    t.metadata["writer"] = "graft";
    io::write_safetensors(path, t);
    for (bool copy : {false, true}) require_all_dtypes(io::read_safetensors(path, {.copy = copy}));
    REQUIRE(io::read_safetensors(path).metadata == t.metadata);
    // The data starts 8-aligned, as the reference writer pads the header.
    const std::string bytes = read_bytes(path);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    REQUIRE((8 + n) % 8 == 0);
    REQUIRE(bytes[8 + n - 1] != '\0');

    // Views: a transpose, a strided slice, a broadcast.
    Tensor base = arange(0, 24, 1, DType::Float32).reshape({4, 6});
    NamedTensors views;
    views.set("t", base.t());
    views.set("s", base.slice(1, 1, 6, 2));
    views.set("e", arange(0, 3, 1, DType::Int64).unsqueeze(0).expand({2, 3}));
    io::write_safetensors(path, views, {});
    const NamedTensors back = io::read_safetensors(path);
    REQUIRE(back.metadata.empty());
    for (const auto& [name, v] : views) {
        REQUIRE(back.at(name).shape() == v.shape());
        REQUIRE(back.at(name).to(DType::Float64).to_vector<double>() == v.to(DType::Float64).to_vector<double>());
    }
}

TEST_CASE("safetensors: output is byte-identical to the Python library's", "[io][safetensors]") {
    // The shards carry one metadata key (the library orders several by hash).
    for (const char* shard : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
        const std::string path = kFixtures + "/sharded/" + shard;
        const NamedTensors t = io::read_safetensors(path);
        REQUIRE(io::serialize_safetensors(t, t.metadata) == read_bytes(path));
    }
    // Every dtype: the library's file has three metadata keys in hash order, so
    // compare the data (order and bytes) and the header length rounding.
    const std::string theirs = read_bytes(kFixtures + "/all_dtypes.safetensors");
    const NamedTensors t = io::read_safetensors(kFixtures + "/all_dtypes.safetensors");
    const std::string ours = io::serialize_safetensors(t, t.metadata);
    auto data_of = [](const std::string& file) {
        uint64_t n = 0;
        std::memcpy(&n, file.data(), 8);
        return file.substr(8 + n);
    };
    REQUIRE(data_of(ours) == data_of(theirs));
    REQUIRE(ours.size() == theirs.size());
}

TEST_CASE("safetensors: mapped tensors outlive the NamedTensors and never write the file", "[io][safetensors]") {
    TempDir dir("st");
    const std::string path = dir.file("m.safetensors");
    NamedTensors t;
    t.set("a", arange(0, 1000, 1, DType::Float32));
    t.set("b", ones({7}, DType::Float64));
    io::write_safetensors(path, t);
    const std::string before = read_bytes(path);
    Tensor a;
    {
        NamedTensors r = io::read_safetensors(path);
        a = r.at("a");
    }
    REQUIRE(a.to_vector<float>()[999] == 999.0f);
    a.fill_(5.0);  // copy-on-write page
    REQUIRE(a.to_vector<float>()[0] == 5.0f);
    REQUIRE(read_bytes(path) == before);

    // Rewriting the file while its tensors are mapped: the rename leaves the
    // old mapping valid (old inode), the new file holds the new values.
    NamedTensors mapped = io::read_safetensors(path);
    NamedTensors doubled;
    for (const auto& [name, v] : mapped) doubled.set(name, v.mul(scalar_tensor(2.0, v.dtype())));
    io::write_safetensors(path, doubled);
    REQUIRE(mapped.at("b").to_vector<double>() == std::vector<double>(7, 1.0));
    REQUIRE(io::read_safetensors(path).at("b").to_vector<double>() == std::vector<double>(7, 2.0));
}

TEST_CASE("safetensors: writing is atomic", "[io][safetensors]") {
    TempDir dir("st");
    const std::string path = dir.file("w.safetensors");
    NamedTensors first;
    first.set("x", full({4}, 1.0));
    io::write_safetensors(path, first);
    const std::string old_bytes = read_bytes(path);

    SECTION("replacing leaves no temporary file") {
        NamedTensors second;
        second.set("y", full({3}, 2.0));
        io::write_safetensors(path, second);
        REQUIRE(io::read_safetensors(path).contains("y"));
        REQUIRE(others(dir, "w.safetensors").empty());
    }
    SECTION("a refused tensor touches nothing") {
        NamedTensors bad;
        bad.set("ok", ones({2}));
        bad.set("__metadata__", ones({2}));
        REQUIRE_THROWS_WITH(io::write_safetensors(path, bad), Contains(path) && Contains("__metadata__"));
        REQUIRE(read_bytes(path) == old_bytes);
        REQUIRE(others(dir, "w.safetensors").empty());
    }
    SECTION("a write that fails half way (file size limit) keeps the previous file") {
        NamedTensors big;
        big.set("big", zeros({100000}));
        struct rlimit old_limit {};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit small = old_limit;
        small.rlim_cur = 64 * 1024;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message;
        try {
            io::write_safetensors(path, big);
        } catch (const Error& e) {
            message = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        ::signal(SIGXFSZ, old_handler);
        REQUIRE_THAT(message, Contains(path) && Contains("previous file is untouched"));
        REQUIRE(read_bytes(path) == old_bytes);
        REQUIRE(others(dir, "w.safetensors").empty());
    }
    SECTION("a missing folder is an error naming the path") {
        const std::string nowhere = dir.file("no/such/folder/x.safetensors");
        REQUIRE_THROWS_WITH(io::write_safetensors(nowhere, first), Contains(nowhere) && Contains("temporary file"));
    }
}

TEST_CASE("safetensors: stale temporary files of dead processes are swept", "[io][safetensors]") {
    TempDir dir("st");
    const std::string path = dir.file("c.safetensors");
    write_bytes(path + ".tmp.999999999.0", "junk");                       // no such pid
    write_bytes(path + ".tmp." + std::to_string(::getpid()) + ".7", "");  // ours: left alone
    write_bytes(path + ".tmp.x.1", "");                                   // not our pattern
    REQUIRE(io::remove_stale_temp_files(path) == 1);
    REQUIRE(!fs::exists(path + ".tmp.999999999.0"));
    REQUIRE(fs::exists(path + ".tmp.x.1"));
}

TEST_CASE("safetensors: sharded Hugging Face checkpoint", "[io][safetensors]") {
    const NamedTensors t = io::read_safetensors_sharded(kFixtures + "/sharded/model.safetensors.index.json");
    REQUIRE(t.names() == std::vector<std::string>{"embed.weight", "head.bias", "layer.0.weight", "layer.1.weight"});
    require_tensor(t.at("embed.weight"), DType::Float32, {3, 2}, formula(6, 1, 0));
    require_tensor(t.at("layer.1.weight"), DType::Float32, {2, 2}, {-2, -2, -2, -2});
    require_tensor(t.at("head.bias"), DType::Float32, {2}, {0.5, 0.25});
    REQUIRE(t.metadata.at("total_size") == "64");
    REQUIRE(t.metadata.at("format") == "pt");

    TempDir dir("st");
    const std::string index = dir.file("model.safetensors.index.json");
    NamedTensors shard;
    shard.set("a", ones({2}));
    io::write_safetensors(dir.file("s1.safetensors"), shard);
    auto refuse = [&](const std::string& json, const std::string& problem) {
        write_bytes(index, json);
        REQUIRE_THROWS_WITH(io::read_safetensors_sharded(index), Contains(index) && Contains(problem));
    };
    refuse(R"({"weight_map": {"a": "../s1.safetensors"}})", "leaves the index's folder");
    refuse(R"({"weight_map": {"a": "/etc/passwd"}})", "is absolute");
    refuse(R"({"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}})",
           "tensor 'b': the index puts it in shard \"s1.safetensors\", which does not hold it");
}

TEST_CASE("safetensors: sharded index problems", "[io][safetensors]") {
    TempDir dir("st");
    const std::string index = dir.file("model.safetensors.index.json");
    NamedTensors shard;
    shard.set("a", ones({2}));
    shard.set("b", ones({3}));
    io::write_safetensors(dir.file("s1.safetensors"), shard);
    auto refuse = [&](const std::string& json, const std::string& problem) {
        INFO(json);
        write_bytes(index, json);
        REQUIRE_THROWS_WITH(io::read_safetensors_sharded(index), Contains(index) && Contains(problem));
    };
    refuse(R"({"weight_map": {"a": "s1.safetensors"}})", "holds tensor 'b', which the index does not list");
    refuse(R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})", "s2.safetensors");
    refuse(R"({"weight_map": {"a": 3}})", "expected a file name");
    refuse(R"({"metadata": {}})", "no \"weight_map\"");
    refuse(R"({"weight_map": {"a": "s1.safetensors", "a": "s1.safetensors"}})", "duplicate key \"a\"");
    refuse("{not json", "not valid JSON");
    REQUIRE_THROWS_WITH(io::read_safetensors_sharded(dir.file("missing.json")),
                        Contains("missing.json") && Contains("cannot open"));
}

TEST_CASE("safetensors: hostile files are refused with the file and the problem named", "[io][safetensors]") {
    TempDir dir("st");
    const std::string path = dir.file("bad.safetensors");
    const std::string f32x2 = std::string(8, '\0');
    auto refuse = [&](const std::string& bytes, const std::string& problem) {
        INFO(problem);
        write_bytes(path, bytes);
        REQUIRE_THROWS_WITH(io::read_safetensors(path), Contains(path) && Contains(problem));
        REQUIRE_THROWS_WITH(io::read_safetensors(path, {.copy = true}), Contains(problem));
    };
    auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape, uint64_t b,
                    uint64_t e) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
               std::to_string(b) + "," + std::to_string(e) + "]}";
    };

    refuse("", "0 bytes, too short");
    refuse(std::string("\x05\0\0\0\0", 5), "5 bytes, too short");
    refuse(raw_file("{}", "", 1000), "header length 1000 runs past the end of the file");
    refuse(raw_file("{}", "", 1ull << 40), "exceeds the format's limit of 100000000 bytes");
    refuse(raw_file("{not json}", ""), "not valid JSON");
    refuse(raw_file("[1, 2]", ""), "does not start with '{'");
    refuse(raw_file("{\"a\xff\":1}", ""), "not valid JSON");  // not UTF-8
    refuse(raw_file("{" + entry("a", "F32", "[2]", 0, 16) + "}", f32x2), "tensor 'a': data_offsets [0, 16] run past the end");
    refuse(raw_file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}",
                    std::string(12, '\0')),
           "tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a'");
    refuse(raw_file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 12, 20) + "}",
                    std::string(20, '\0')),
           "a gap of 4 bytes before tensor 'b'");
    refuse(raw_file("{" + entry("a", "F32", "[2]", 4, 12) + "}", std::string(12, '\0')), "a gap of 4 bytes before tensor 'a'");
    refuse(raw_file("{" + entry("a", "F32", "[2]", 0, 8) + "}", std::string(12, '\0')), "4 trailing bytes");
    refuse(raw_file("{" + entry("a", "F32", "[3]", 0, 8) + "}", f32x2), "tensor 'a': data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12");
    refuse(raw_file("{" + entry("a", "F32", "[2]", 8, 0) + "}", f32x2), "tensor 'a': data_offsets [8, 0] end before they begin");
    refuse(raw_file("{" + entry("a", "F32", "[-1]", 0, 8) + "}", f32x2), "tensor 'a': shape[0] is -1");
    refuse(raw_file("{" + entry("a", "F32", "[2.5]", 0, 8) + "}", f32x2), "tensor 'a': shape[0] is 2.5");
    refuse(raw_file("{" + entry("a", "F32", "[4294967296,4294967296,16]", 0, 8) + "}", f32x2),
           "tensor 'a': shape [4294967296, 4294967296, 16] of F32 is too large");
    refuse(raw_file("{" + entry("a", "F32", "[0,4611686018427387904,4]", 0, 0) + "}", ""), "tensor 'a': shape [0, 4611686018427387904, 4] of F32 is too large");
    refuse(raw_file("{" + entry("a", "F32", "[99999999999999999999]", 0, 8) + "}", f32x2), "tensor 'a': shape[0] is");
    refuse(raw_file("{" + entry("a", "Q7", "[2]", 0, 8) + "}", f32x2), "tensor 'a': unknown dtype \"Q7\"");
    refuse(raw_file("{" + entry("a", "I8", "[8]", 0, 8) + "}", f32x2), "tensor 'a': dtype I8 is valid safetensors but Graft has no such type");
    refuse(raw_file("{" + entry("a", "F4", "[3]", 0, 2) + "}", std::string(2, '\0')), "is 12 bits, not a whole number of bytes");
    refuse(raw_file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("a", "F32", "[2]", 8, 16) + "}",
                    std::string(16, '\0')),
           "duplicate key \"a\"");
    refuse(raw_file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", f32x2),
           "duplicate key \"dtype\"");
    refuse(raw_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", f32x2), "tensor 'a': the entry has no \"data_offsets\"");
    refuse(raw_file("{\"a\":[1]}", ""), "tensor 'a': the entry is [1]");
    refuse(raw_file("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", f32x2), "tensor 'a': dtype is 7");
    refuse(raw_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", f32x2), "tensor 'a': data_offsets is [0]");
    refuse(raw_file("{\"__metadata__\":{\"x\":1}}", ""), "__metadata__[\"x\"] is 1, expected a string");
    refuse(raw_file("{\"__metadata__\":[]}", ""), "__metadata__ is [], expected an object");
    refuse(raw_file("{" + entry("m", "BOOL", "[2]", 0, 2) + "}", std::string("\x01\x02", 2)), "tensor 'm': BOOL element 1 is byte 2");
    REQUIRE_THROWS_WITH(io::read_safetensors(dir.file("absent.safetensors")),
                        Contains("absent.safetensors") && Contains("cannot open"));
    REQUIRE_THROWS_WITH(io::read_safetensors(dir.path.string()), Contains("not a regular file"));

    // The smallest valid file, and one with only padding spaces after the JSON.
    write_bytes(path, raw_file("{}", ""));
    REQUIRE(io::read_safetensors(path).empty());
    write_bytes(path, raw_file("{" + entry("a", "F32", "[2]", 0, 8) + "}   ", f32x2));
    REQUIRE(io::read_safetensors(path).at("a").shape() == Shape{2});
}

TEST_CASE("safetensors: unaligned data is copied, aligned data is mapped", "[io][safetensors]") {
    TempDir dir("st");
    const std::string path = dir.file("u.safetensors");
    // Header of odd length: the F32 data starts at an odd file offset.
    const std::string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    REQUIRE((8 + header.size()) % 4 != 0);
    float values[2] = {1.5f, -2.0f};
    write_bytes(path, raw_file(header, std::string(reinterpret_cast<const char*>(values), 8)));
    const Tensor a = io::read_safetensors(path).at("a");
    REQUIRE(reinterpret_cast<uintptr_t>(a.raw_data()) % 4 == 0);
    REQUIRE(a.to_vector<float>() == std::vector<float>{1.5f, -2.0f});
}

TEST_CASE("safetensors: the Python library reads Graft's files (when GRAFT_SAFETENSORS_PYTHON is set)",
          "[io][safetensors]") {
    const char* python = std::getenv("GRAFT_SAFETENSORS_PYTHON");
    if (!python || !*python) {
        WARN("GRAFT_SAFETENSORS_PYTHON is not set (e.g. /work/st-venv/bin/python); skipping the Python check");
        return;
    }
    TempDir dir("st");
    const std::string path = dir.file("graft.safetensors");
    NamedTensors t = all_dtypes();
    io::write_safetensors(path, t, {{"writer", "graft"}});
    const std::string command = std::string(python) + " " + GRAFT_FIXTURES_DIR +
                                "/make_safetensors_fixtures.py verify " + path + " > " + dir.file("out.txt") + " 2>&1";
    const int rc = std::system(command.c_str());
    INFO(read_bytes(dir.file("out.txt")));
    REQUIRE(rc == 0);
    REQUIRE_THAT(read_bytes(dir.file("out.txt")), Contains("ok"));
}
