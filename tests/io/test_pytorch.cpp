// read_pytorch: files written by torch 1.13 (Debian) and torch 2.x (PyPI) in
// the zip, legacy and protocol-4 forms (tests/fixtures/make_pytorch_fixtures.py),
// compared with expected.json value by value, with storages shared as in
// Python; checkpoints; hostile pickles that would run a command (each refused
// naming the global, and nothing runs); and broken files: every truncation,
// byte corruption, hand-patched zip entries and crafted storages.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "graft.h"
#include "io/formats/pytorch.h"

using namespace graft;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kDir = std::string(GRAFT_FIXTURES_DIR) + "/pytorch/";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

nlohmann::json expected() {
    static const nlohmann::json j = nlohmann::json::parse(slurp(kDir + "expected.json"));
    return j;
}

DType dtype_of_name(const std::string& name) {
    if (name == "float32") return DType::Float32;
    if (name == "float64") return DType::Float64;
    if (name == "float16") return DType::Float16;
    if (name == "bfloat16") return DType::BFloat16;
    if (name == "int64") return DType::Int64;
    if (name == "int32") return DType::Int32;
    if (name == "uint8") return DType::UInt8;
    if (name == "bool") return DType::Bool;
    FAIL("unknown dtype " << name);
    return DType::Float32;
}

// Every tensor of the state_dict as expected.json lists it: order, dtype,
// layout, values, and storages shared exactly where Python shared them.
// `shared`: whether views of one Python storage must share one here (not for
// plain pickles, which write such a storage once per tensor, as Python reads them).
void check_state_dict(const NamedTensors& sd, bool to_float32 = false, bool shared = true) {
    const auto& exp = expected();
    std::vector<std::string> order = exp["order"].get<std::vector<std::string>>();
    REQUIRE(sd.names() == order);
    std::map<int, StoragePtr> storage_of_group;
    for (const std::string& name : order) {
        INFO(name);
        const auto& e = exp["tensors"][name];
        const Tensor& t = sd.at(name);
        DType want = dtype_of_name(e["dtype"]);
        if (to_float32 && (want == DType::Float16 || want == DType::BFloat16 || want == DType::Float64))
            want = DType::Float32;
        CHECK(t.dtype() == want);
        CHECK(t.shape() == e["shape"].get<Shape>());
        if (!to_float32 || want == dtype_of_name(e["dtype"])) {
            CHECK(t.strides() == e["stride"].get<Strides>());
            CHECK(t.offset() == e["offset"].get<int64_t>());
            auto [it, fresh] = storage_of_group.emplace(e["storage"].get<int>(), t.storage());
            if (!fresh) CHECK((it->second == t.storage()) == shared);
        }
        const std::vector<double> values = t.to_vector<double>();
        const std::vector<double> want_values = e["values"].get<std::vector<double>>();
        REQUIRE(values.size() == want_values.size());
        const bool narrowed = to_float32 && dtype_of_name(e["dtype"]) == DType::Float64;
        for (size_t i = 0; i < values.size(); ++i)
            CHECK(values[i] == (narrowed ? double(float(want_values[i])) : want_values[i]));
    }
    if (!shared) return;
    // Distinct groups are distinct storages.
    std::set<Storage*> distinct;
    for (const auto& [group, storage] : storage_of_group) distinct.insert(storage.get());
    CHECK(distinct.size() == storage_of_group.size());
}

void require_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
    try {
        fn();
        FAIL("no error");
    } catch (const Error& e) {
        for (const std::string& p : parts) CHECK_THAT(e.what(), Contains(p));
    }
}

// Replaces every occurrence of `from` by `to` (same length) in `bytes`, or
// only the last when `last_only`.
std::string patch(std::string bytes, const std::string& from, const std::string& to, bool last_only = false) {
    REQUIRE(from.size() == to.size());
    size_t at = last_only ? bytes.rfind(from) : bytes.find(from);
    REQUIRE(at != std::string::npos);
    while (at != std::string::npos) {
        bytes.replace(at, from.size(), to);
        at = last_only ? std::string::npos : bytes.find(from, at + 1);
    }
    return bytes;
}

}  // namespace

TEST_CASE("read_pytorch: state_dicts from torch 1.13 and 2.x, zip, legacy and protocol 4", "[io][pytorch]") {
    for (const char* version : {"t1_", "t2_"})
        for (const char* form : {"sd_zip.pt", "sd_legacy.pt", "sd_proto4.pt"})
            for (bool copy : {false, true}) {
                const std::string path = kDir + version + form;
                INFO(path << " copy=" << copy);
                NamedTensors sd = io::read_pytorch(path, {.key = std::nullopt, .to_float32 = false, .copy = copy});
                check_state_dict(sd);
                CHECK(sd.metadata.at("format") == (std::string(form) == "sd_legacy.pt" ? "pytorch-legacy" : "pytorch-zip"));
                CHECK(sd.metadata.at("pytorch.key").empty());
                CHECK(sd.metadata.count("pytorch.skipped") == 0);
                CHECK(sd.metadata.count("pytorch.top_level_keys") == 0);
            }
}

TEST_CASE("read_pytorch: mapped zip tensors view the file in place, 64-byte aligned", "[io][pytorch]") {
    NamedTensors sd = io::read_pytorch(kDir + "t2_sd_zip.pt");
    for (const auto& [name, t] : sd) CHECK(reinterpret_cast<uintptr_t>(t.storage()->data()) % 64 == 0);
    // Writing to a mapped tensor copies the page: the file is unchanged.
    const std::string before = slurp(kDir + "t2_sd_zip.pt");
    sd.at("fc.weight").fill_(42.0);
    CHECK(slurp(kDir + "t2_sd_zip.pt") == before);
    // Views of one storage see each other's writes, as in torch.
    sd.at("shared_row").fill_(-1.0);
    CHECK(sd.at("shared_block").to_vector<float>() == std::vector<float>{2.25f, 2.5f, 3.25f, 3.5f});
    NamedTensors again = io::read_pytorch(kDir + "t2_sd_zip.pt");
    sd.at("shared_block").fill_(9.0);
    CHECK(again.at("shared_row").to_vector<float>() == std::vector<float>{1.0f, 1.25f, 1.5f, 1.75f});
}

TEST_CASE("read_pytorch: to_float32 converts half, bfloat16 and double", "[io][pytorch]") {
    for (const char* file : {"t1_sd_zip.pt", "t2_sd_legacy.pt"}) {
        INFO(file);
        check_state_dict(io::read_pytorch(kDir + file, {.key = std::nullopt, .to_float32 = true}), true);
    }
}

TEST_CASE("read_pytorch: bytes in memory", "[io][pytorch]") {
    for (const char* file : {"t1_sd_zip.pt", "t1_sd_legacy.pt", "t2_sd_proto4.pt"})
        check_state_dict(io::read_pytorch_bytes(slurp(kDir + file), file));
}

TEST_CASE("read_pytorch: plain pickle.dump of a state_dict (_load_from_bytes storages)", "[io][pytorch]") {
    for (const char* file : {"t1_plain_p2.pkl", "t1_plain_p4.pkl", "t2_plain_p2.pkl", "t2_plain_p4.pkl"}) {
        INFO(file);
        NamedTensors sd = io::read_pytorch(kDir + file);
        check_state_dict(sd, false, false);
        CHECK(sd.metadata.at("format") == "pickle");
    }
}

TEST_CASE("read_pytorch: the tar format of torch <= 0.3", "[io][pytorch]") {
    for (bool copy : {false, true}) {
        NamedTensors sd = io::read_pytorch(kDir + "t0_sd_tar.pth", {.key = std::nullopt, .to_float32 = false, .copy = copy});
        check_state_dict(sd);
        CHECK(sd.metadata.at("format") == "pytorch-tar");
    }
    const std::string bytes = slurp(kDir + "t0_sd_tar.pth");
    // Cut inside the members: an error. Cut or corrupted anywhere: never a crash.
    for (size_t n : {size_t(0), size_t(511), size_t(512), size_t(700), size_t(2000), size_t(4000)})
        CHECK_THROWS_AS(io::read_pytorch_bytes(bytes.substr(0, n), "cut.pth"), Error);
    for (size_t n = 0; n < bytes.size(); n += 7) {
        try {
            io::read_pytorch_bytes(bytes.substr(0, n), "cut.pth");
        } catch (const Error&) {
        }
        std::string b = bytes;
        b[n] = char(b[n] ^ 0x41);
        try {
            io::read_pytorch_bytes(b, "flip.pth");
        } catch (const Error&) {
        }
    }
}

TEST_CASE("read_pytorch: checkpoints pick the nested state_dict", "[io][pytorch]") {
    for (const char* version : {"t1_", "t2_"}) {
        NamedTensors zip = io::read_pytorch(kDir + version + "ckpt_zip.pt");
        check_state_dict(zip);
        CHECK(zip.metadata.at("pytorch.key") == "model_state_dict");
        CHECK(zip.metadata.at("pytorch.top_level_keys") == "epoch,model_state_dict,optimizer,note");
        NamedTensors legacy = io::read_pytorch(kDir + version + "ckpt_legacy.pt");
        check_state_dict(legacy);
        CHECK(legacy.metadata.at("pytorch.key") == "state_dict");

        NamedTensors explicit_key = io::read_pytorch(kDir + version + "ckpt_zip.pt", {.key = "model_state_dict"});
        CHECK(explicit_key.size() == zip.size());
        NamedTensors top = io::read_pytorch(kDir + version + "ckpt_zip.pt", {.key = ""});
        CHECK(top.empty());
        CHECK(top.metadata.at("pytorch.skipped") == "epoch,model_state_dict,optimizer,note");
        require_error([&] { io::read_pytorch(kDir + version + "ckpt_zip.pt", {.key = "model"}); },
                      {"ckpt_zip.pt", "no key 'model'", "epoch,model_state_dict,optimizer,note"});
        NamedTensors optimizer = io::read_pytorch(kDir + version + "ckpt_zip.pt", {.key = "optimizer"});
        CHECK(optimizer.empty());
        CHECK(optimizer.metadata.at("pytorch.skipped") == "state,param_groups");
        require_error([&] { io::read_pytorch(kDir + version + "ckpt_zip.pt", {.key = "epoch"}); },
                      {"ckpt_zip.pt", "'epoch' is a int, not a dict"});
    }
}

TEST_CASE("read_pytorch: a list of Parameters (_rebuild_parameter) and a crafted view", "[io][pytorch]") {
    for (const char* file : {"t1_params.pt", "t2_params.pt"}) {
        NamedTensors p = io::read_pytorch(kDir + file);
        REQUIRE(p.names() == std::vector<std::string>{"0", "1", "2", "3"});
        CHECK(p.at("0").shape() == Shape{3, 4});
        CHECK(p.at("3").shape() == Shape{3});
    }
    NamedTensors g = io::read_pytorch(kDir + "good_crafted.pt");
    CHECK(g.at("w").offset() == 1);
    CHECK(g.at("w").shape() == Shape{3});
    CHECK(g.at("e").shape() == Shape{8, 4});
    CHECK(g.at("e").strides() == Strides{0, 1});
    CHECK(g.at("e").storage() == g.at("w").storage());
}

TEST_CASE("read_pytorch: dtypes Graft lacks are refused naming the tensor", "[io][pytorch]") {
    for (const char* file : {"t1_int16.pt", "t2_int16.pt"})
        require_error([&] { io::read_pytorch(kDir + file); }, {file, "tensor 'short'", "ShortStorage", "int16"});
}

TEST_CASE("read_pytorch: malicious pickles name the global and run nothing", "[io][pytorch][security]") {
    struct Case {
        const char* file;
        const char* global;
        const char* marker;
    };
    const Case cases[] = {
        {"evil_os_system.pkl", "posix.system", "/tmp/graft_pwned_os_system"},
        {"evil_eval.pkl", "__builtin__.eval", "/tmp/graft_pwned_eval"},
        {"evil_popen.pkl", "subprocess.Popen", "/tmp/graft_pwned_popen"},
        {"evil_zip.pt", "posix.system", "/tmp/graft_pwned_os_system"},
        {"evil_legacy.pt", "posix.system", "/tmp/graft_pwned_os_system"},
    };
    for (const Case& c : cases) {
        INFO(c.file);
        std::remove(c.marker);
        require_error([&] { io::read_pytorch(kDir + c.file); }, {c.file, c.global, "not allowed"});
        require_error([&] { io::read_pytorch_bytes(slurp(kDir + c.file), c.file); }, {c.global});
        CHECK_FALSE(fs::exists(c.marker));
    }
}

TEST_CASE("read_pytorch: _load_from_bytes and _codecs.encode stay restricted", "[io][pytorch][security]") {
    using namespace std::string_literals;
    // The nested stream is the os.system pickle: refused by the same allow list.
    const std::string evil = slurp(kDir + "evil_os_system.pkl");
    REQUIRE(evil.size() < 256);
    std::string nested = "\x80\x02" "ctorch.storage\n_load_from_bytes\nC";
    nested += char(evil.size());
    nested += evil + "\x85R.";
    std::remove("/tmp/graft_pwned_os_system");
    require_error([&] { io::read_pytorch_bytes(nested, "nested.pkl"); }, {"nested.pkl", "_load_from_bytes", "posix.system"});
    CHECK_FALSE(fs::exists("/tmp/graft_pwned_os_system"));
    // Only encode(str, 'latin1') is allowed.
    const std::string utf8 = "\x80\x02" "c_codecs\nencode\nX\x01\x00\x00\x00xX\x05\x00\x00\x00utf-8\x86R."s;
    require_error([&] { io::read_pytorch_bytes(utf8, "codecs.pkl"); }, {"codecs.pkl", "encode(str, 'latin1')"});
    // torch.device is allowed (as text) and skipped like any non-tensor entry.
    const std::string device =
        "\x80\x02}X\x03\x00\x00\x00" "devctorch\ndevice\nX\x04\x00\x00\x00" "cudaK\x01\x86Rs."s;
    NamedTensors d = io::read_pytorch_bytes(device, "device.pkl", {.key = ""});
    CHECK(d.empty());
    CHECK(d.metadata.at("pytorch.skipped") == "dev");
    const std::string bad_device = "\x80\x02" "ctorch\ndevice\nK\x01\x85R."s;
    require_error([&] { io::read_pytorch_bytes(bad_device, "dev.pkl"); }, {"dev.pkl", "device(str[, int])"});
    // A plain pickle of anything but a dict or list of tensors says what it holds.
    require_error([&] { io::read_pytorch_bytes("\x80\x02K\x05.", "int.pkl"); }, {"int.pkl", "holds a int"});
}

TEST_CASE("read_pytorch: crafted storages and views are checked against the data", "[io][pytorch]") {
    require_error([&] { io::read_pytorch(kDir + "bad_numel.pt"); },
                  {"bad_numel.pt", "storage '0'", "holds 16 bytes", "1152921504606846976 elements"});
    require_error([&] { io::read_pytorch(kDir + "bad_view.pt"); },
                  {"bad_view.pt", "tensor 'w'", "reach past its storage '0' of 4 elements"});
    require_error([&] { io::read_pytorch(kDir + "bad_expand.pt"); },
                  {"bad_expand.pt", "tensor 'w'", "repeats its storage '0' of 4 elements more than 1024 times"});
    require_error([&] { io::read_pytorch(kDir + "missing_record.pt"); },
                  {"missing_record.pt", "storage '5'", "archive/data/5", "missing"});
}

TEST_CASE("read_pytorch: every truncation is an error, never a crash", "[io][pytorch]") {
    for (const char* file : {"t1_sd_zip.pt", "t1_sd_legacy.pt", "t2_sd_zip.pt", "t2_ckpt_legacy.pt"}) {
        const std::string bytes = slurp(kDir + file);
        INFO(file);
        for (size_t n = 0; n < bytes.size(); ++n) {
            INFO("cut at " << n);
            CHECK_THROWS_AS(io::read_pytorch_bytes(bytes.substr(0, n), file), Error);
        }
    }
}

TEST_CASE("read_pytorch: corrupting any byte loads or throws Error", "[io][pytorch]") {
    for (const char* file : {"t1_sd_legacy.pt", "t1_sd_zip.pt"}) {
        const std::string bytes = slurp(kDir + file);
        for (size_t i = 0; i < bytes.size(); ++i)
            for (unsigned char v : {0x00, 0xff, 0x80}) {
                std::string b = bytes;
                b[i] = char(v);
                try {
                    io::read_pytorch_bytes(b, file);
                } catch (const Error&) {
                }
            }
    }
}

TEST_CASE("read_pytorch: hand-patched zip entries", "[io][pytorch]") {
    const std::string bytes = slurp(kDir + "t1_sd_zip.pt");
    // A storage record renamed in both headers: the storage is missing.
    require_error([&] { io::read_pytorch_bytes(patch(bytes, "t1_sd_zip/data/0", "t1_sd_zip/data/Z"), "p.pt"); },
                  {"p.pt", "storage '0'", "t1_sd_zip/data/0", "missing"});
    // Renamed in the central directory only: the local header disagrees.
    require_error(
        [&] { io::read_pytorch_bytes(patch(bytes, "t1_sd_zip/data/0", "t1_sd_zip/data/Z", true), "p.pt"); },
        {"p.pt", "t1_sd_zip/data/Z", "local header"});
    // A name that climbs out of the archive.
    require_error([&] { io::read_pytorch_bytes(patch(bytes, "t1_sd_zip/data/1", "t1_sd_zip/..////"), "p.pt"); },
                  {"p.pt", "unsafe name"});
    // Not a torch file at all, tar, empty, TorchScript-like.
    require_error([&] { io::read_pytorch_bytes("hello world", "h.txt"); }, {"h.txt", "not a PyTorch file"});
    std::string tar(1024, '\0');
    tar.replace(257, 5, "ustar");
    require_error([&] { io::read_pytorch_bytes(tar, "old.pth"); }, {"old.pth", "tar: the header at byte 0 is corrupt"});
    require_error([&] { io::read_pytorch_bytes("", "e.pt"); }, {"e.pt", "empty"});
    require_error([&] { io::read_pytorch_bytes(patch(bytes, "t1_sd_zip/data.pkl", "t1_sd_zip/code/pkl"), "p.pt"); },
                  {"TorchScript"});
    require_error([&] { io::read_pytorch(kDir + "no_such_file.pt"); }, {"no_such_file.pt", "cannot open"});
}
