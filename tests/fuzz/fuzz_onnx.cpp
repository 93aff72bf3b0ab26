// libFuzzer target for read_onnx: any byte string, written as model.onnx in a
// scratch folder, must either load or throw graft::Error, never crash, hang or
// allocate what the file does not hold. The folder also holds data.bin (256
// bytes) for external data, and escape.bin, a symlink to a file outside it,
// which must always be refused. A file that loads must give unique names and
// tensors whose byte count matches their shape.
//
// Seeds: tests/fuzz/corpus/onnx (small files written by
// tests/fixtures/make_onnx_fixtures.py: typed fields, a torch 1.13 export, external
// data, a wrong raw_data size; and libonnx-testdata's test_Conv2d_groups model).
// A longer run by hand:
//   build-fuzz/tests/fuzz/fuzz_onnx -max_total_time=600 -max_len=8192 corpus/ tests/fuzz/corpus/onnx
// Note: protobuf (Debian's libprotobuf) is not instrumented, so libFuzzer's
// coverage guidance sees Graft's walk over the parsed messages, not the parser.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_set>

#include "core/error.h"
#include "io/formats/onnx.h"

namespace {

namespace fs = std::filesystem;

struct Scratch {
    fs::path dir;
    std::string model;
    Scratch() {
        dir = fs::temp_directory_path() / ("graft_fuzz_onnx." + std::to_string(::getpid()));
        fs::create_directories(dir);
        std::string data(256, '\0');
        for (size_t i = 0; i < data.size(); ++i) data[i] = char(i % 3 == 0 ? 1 : 0);  // also valid BOOL bytes
        std::ofstream(dir / "data.bin", std::ios::binary) << data;
        std::error_code ec;
        fs::create_symlink("/etc/hostname", dir / "escape.bin", ec);
        model = (dir / "model.onnx").string();
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Scratch scratch;
    {
        std::ofstream out(scratch.model, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
        if (!out) std::abort();
    }
    graft::NamedTensors tensors;
    try {
        tensors = graft::io::read_onnx(scratch.model, {.convert_to_float32 = (size & 1) != 0,
                                                       .include_constants = (size & 2) != 0});
    } catch (const graft::Error&) {
        return 0;  // refused: the expected outcome for most inputs
    }
    std::unordered_set<std::string> seen;
    for (const auto& [name, t] : tensors) {
        if (!seen.insert(name).second) std::abort();
        const size_t n = size_t(t.numel()) * t.element_size();
        // Touch every byte so the sanitizers see any bad read.
        const auto* p = static_cast<const unsigned char*>(n ? t.raw_data() : nullptr);
        unsigned sum = 0;
        for (size_t i = 0; i < n; ++i) sum += p[i];
        (void)sum;
    }
    return 0;
}
