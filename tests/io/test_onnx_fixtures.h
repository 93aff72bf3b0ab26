// The ONNX files of tests/fixtures/make_onnx_fixtures.py, generated once per
// build folder at test time (resnet18 is ~45 MB, and the hostile cases need
// symlinks): the first test that asks runs the script into onnx_fixtures/
// beside the test executable; later ones reuse it until the script changes.
// Without /usr/bin/python3 and Debian's python3-torch, python3-torchvision,
// python3-onnx and libonnx-testdata the test FAILS (never skips), saying that
// tools/setup.sh installs them. Same scheme as tests/transfer/zoo_fixtures.h.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

namespace graft::testing {

inline std::string onnx_fixture_dir() {
    namespace fs = std::filesystem;
    const fs::path script = fs::path(GRAFT_FIXTURES_DIR) / "make_onnx_fixtures.py";
    std::error_code exe_ec;
    fs::path base = fs::read_symlink("/proc/self/exe", exe_ec).parent_path();
    if (exe_ec || base.empty()) base = fs::current_path();
    const fs::path dir = base / "onnx_fixtures";
    const fs::path stamp = dir / "stamp";
    std::error_code ec;
    auto fresh = [&] {
        return fs::exists(stamp, ec) && fs::last_write_time(stamp, ec) >= fs::last_write_time(script, ec);
    };
    if (fresh()) return dir.string();
    // One generator at a time (ctest -j runs test cases as parallel processes).
    struct Lock {
        int fd;
        ~Lock() {
            if (fd >= 0) ::close(fd);  // releases the flock
        }
    } lock{::open((base / "onnx_fixtures.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)};
    if (lock.fd >= 0) ::flock(lock.fd, LOCK_EX);
    if (fresh()) return dir.string();

    // Generate beside the final folder, then rename: readers see all or nothing.
    // (The hostile cases' symlinks are relative, so they survive the rename.)
    const fs::path tmp = base / ("onnx_fixtures.tmp." + std::to_string(::getpid()));
    fs::remove_all(tmp, ec);
    const std::string log = tmp.string() + ".log";
    const std::string cmd = "/usr/bin/python3 '" + script.string() + "' --out '" + tmp.string() + "' > '" + log + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) {
        fs::remove_all(tmp, ec);
        std::ifstream in(log);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
        FAIL("generating the ONNX fixtures failed (exit " << rc << "): " << cmd << "\n" << text
                                                          << "\nThe script needs /usr/bin/python3 with Debian's python3-torch, "
                                                             "python3-torchvision, python3-onnx and libonnx-testdata: "
                                                             "tools/setup.sh installs them.");
    }
    fs::remove(log, ec);
    const fs::path old = base / ("onnx_fixtures.old." + std::to_string(::getpid()));
    if (fs::exists(dir, ec)) fs::rename(dir, old, ec);
    fs::rename(tmp, dir, ec);
    fs::remove_all(old, ec);
    if (!fs::exists(stamp)) FAIL("could not move the ONNX fixtures from " << tmp.string() << " to " << dir.string());
    return dir.string();
}

}  // namespace graft::testing
