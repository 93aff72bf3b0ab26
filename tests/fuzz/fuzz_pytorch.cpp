// libFuzzer target for read_pytorch (zip, legacy and plain pickles through the
// restricted pickle VM): any byte string must either load or throw
// graft::Error, never crash, hang, leak or allocate more than the input
// holds. A loaded state_dict has every element of every tensor read (so the
// sanitizers see any view reaching outside its storage), and the same bytes
// read from a file (the memory-mapped path) give the same tensors.
//
// Seeds: the committed files in tests/fixtures/pytorch (see CMakeLists.txt).
// A longer run by hand:
//   build-fuzz/tests/fuzz/fuzz_pytorch -max_total_time=600 -max_len=8192 corpus/ \
//       tests/fixtures/pytorch
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "io/formats/pytorch.h"

namespace {

struct MemFile {
    int fd;
    std::string path;
    MemFile(const uint8_t* data, size_t size) : fd(::memfd_create("fuzz", MFD_CLOEXEC)) {
        if (fd < 0) std::abort();
        for (size_t done = 0; done < size;) {
            const ssize_t n = ::write(fd, data + done, size - done);
            if (n <= 0) std::abort();
            done += size_t(n);
        }
        path = "/proc/self/fd/" + std::to_string(fd);
    }
    ~MemFile() { ::close(fd); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const graft::io::PytorchReadOptions options{.key = std::nullopt, .to_float32 = (size & 1) != 0};
    graft::NamedTensors tensors;
    try {
        tensors = graft::io::read_pytorch_bytes(bytes, "fuzz.pt", options);
    } catch (const graft::Error&) {
        return 0;  // refused: the expected outcome for most inputs
    }
    for (const auto& [name, t] : tensors) (void)t.to_vector<double>();
    MemFile file(data, size);
    const graft::NamedTensors mapped = graft::io::read_pytorch(file.path, options);
    if (mapped.names() != tensors.names()) std::abort();
    for (const auto& [name, t] : tensors)
        if (mapped.at(name).to_vector<double>() != t.to_vector<double>()) {
            // NaN payloads compare unequal; only a real difference is a bug.
            const auto a = mapped.at(name).to_vector<double>(), b = t.to_vector<double>();
            for (size_t i = 0; i < a.size(); ++i)
                if (a[i] == a[i] && a[i] != b[i]) std::abort();
        }
    return 0;
}
