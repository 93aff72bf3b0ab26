// The `graft` command line, run as a user runs it (the built binary, through a
// shell): inspect and convert on files written by PyTorch and by the safetensors
// library, and the errors for missing, hostile and non-weights files.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/formats/pytorch.h"
#include "io/formats/read_weights.h"
#include "io/formats/safetensors.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

using Run = graft::testing::CommandResult;

Run graft_cli(const std::string& args) { return graft::testing::run_command(std::string(GRAFT_CLI) + " " + args); }

std::string fixture(const std::string& name) { return std::string(GRAFT_FIXTURES_DIR) + "/" + name; }

}  // namespace

TEST_CASE("graft inspect lists a PyTorch file's tensors, as a table and as JSON", "[tools][cli]") {
    const std::string file = fixture("pytorch/t1_sd_zip.pt");
    const graft::NamedTensors want = graft::io::read_pytorch(file);
    const Run table = graft_cli("inspect " + file);
    INFO(table.output);
    REQUIRE(table.status == 0);
    CHECK_THAT(table.output, Contains("pytorch-zip"));
    for (const auto& [name, t] : want) CHECK_THAT(table.output, Contains(name));

    const Run json = graft_cli("inspect --json " + file);
    REQUIRE(json.status == 0);
    const auto j = nlohmann::json::parse(json.output);
    CHECK(j["format"] == "pytorch-zip");
    REQUIRE(j["num_tensors"] == want.size());
    size_t i = 0;
    for (const auto& [name, t] : want) {
        CHECK(j["tensors"][i]["name"] == name);
        CHECK(j["tensors"][i]["shape"].get<std::vector<int64_t>>() == t.shape());
        ++i;
    }
}

TEST_CASE("graft inspect reads safetensors written by the Python library", "[tools][cli]") {
    const Run r = graft_cli("inspect --all " + fixture("safetensors/all_dtypes.safetensors"));
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Contains("format    safetensors"));
}

TEST_CASE("graft convert turns a legacy .pt into safetensors with the same tensors", "[tools][cli]") {
    TempDir dir("cli");
    const std::string in = fixture("pytorch/t1_sd_legacy.pt"), out = dir.file("w.safetensors");
    const Run r = graft_cli("convert " + in + " " + out + " --metadata note=hello");
    INFO(r.output);
    REQUIRE(r.status == 0);
    const graft::NamedTensors want = graft::io::read_pytorch(in), got = graft::io::read_safetensors(out);
    auto sorted = [](std::vector<std::string> v) { return std::sort(v.begin(), v.end()), v; };
    REQUIRE(sorted(got.names()) == sorted(want.names()));  // safetensors orders tensors its own way
    for (const auto& [name, t] : want) {
        const graft::Tensor& g = got.at(name);
        REQUIRE(g.dtype() == t.dtype());
        REQUIRE(g.shape() == t.shape());
        REQUIRE(g.contiguous().to(graft::DType::Float64).to_vector<double>() ==
                t.contiguous().to(graft::DType::Float64).to_vector<double>());
    }
    CHECK(got.metadata.at("format") == "pt");
    CHECK(got.metadata.at("note") == "hello");
    CHECK(got.metadata.at("graft.source_format") == "pytorch-legacy");
}

TEST_CASE("graft names the file and the problem, and exits 1", "[tools][cli]") {
    TempDir dir("cli");
    Run r = graft_cli("inspect " + dir.file("missing.pth"));
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("missing.pth"));

    r = graft_cli("inspect " + dir.write("notes.txt", "hello, these are not weights"));
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("notes.txt") && Contains("not a weights file"));

    // A pickle naming os.system: refused by name, and its payload never runs.
    r = graft_cli("inspect " + fixture("pytorch/evil_os_system.pkl"));
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Contains("os") && Contains("system"));

    // convert keeps an existing output when the input is bad
    const std::string out = dir.write("keep.safetensors", "previous");
    r = graft_cli("convert " + dir.file("missing.pth") + " " + out);
    CHECK(r.status == 1);
    std::FILE* f = std::fopen(out.c_str(), "rb");
    REQUIRE(f);
    char buf[16] = {};
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    CHECK(std::string(buf, n) == "previous");
}

TEST_CASE("graft without a subcommand prints its usage and fails", "[tools][cli]") {
    const Run r = graft_cli("");
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Contains("inspect") && Contains("convert"));
}
