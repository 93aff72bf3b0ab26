// Fixtures generated at test time by a script in tests/fixtures/, once per build
// folder: files too big to commit (zoo weights, ONNX models) or that need a
// reference framework to make. The first test that asks runs
//   /usr/bin/python3 tests/fixtures/<script> --out <tmp> <extra args>
// and renames <tmp> to <folder> beside the test executable (build/tests/,
// whatever the working directory); later tests, and later runs, reuse it until
// the script changes. The script writes <tmp>/stamp last.
//
// ctest -j runs test cases as parallel processes: one generates under a file
// lock while the others wait, and a reader sees the complete folder or none.
// A failing script FAILS the test (never a skip) with its output and `needs`,
// which says what the script requires and which set-up step installs it.
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

inline std::string generated_fixture_dir(const std::string& script_name, const std::string& folder,
                                         const std::string& needs, const std::string& extra_args = "") {
    namespace fs = std::filesystem;
    const fs::path script = fs::path(GRAFT_FIXTURES_DIR) / script_name;
    std::error_code exe_ec;
    fs::path base = fs::read_symlink("/proc/self/exe", exe_ec).parent_path();
    if (exe_ec || base.empty()) base = fs::current_path();
    const fs::path dir = base / folder;
    const fs::path stamp = dir / "stamp";
    std::error_code ec;
    auto fresh = [&] {
        return fs::exists(stamp, ec) && fs::last_write_time(stamp, ec) >= fs::last_write_time(script, ec);
    };
    if (fresh()) return dir.string();
    struct Lock {
        int fd;
        ~Lock() {
            if (fd >= 0) ::close(fd);  // releases the flock
        }
    } lock{::open((base / (folder + ".lock")).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)};
    if (lock.fd >= 0) ::flock(lock.fd, LOCK_EX);
    if (fresh()) return dir.string();

    const fs::path tmp = base / (folder + ".tmp." + std::to_string(::getpid()));
    fs::remove_all(tmp, ec);
    const std::string log = tmp.string() + ".log";
    const std::string cmd = "/usr/bin/python3 '" + script.string() + "' --out '" + tmp.string() + "' " + extra_args +
                            " > '" + log + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) {
        fs::remove_all(tmp, ec);
        std::ifstream in(log);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
        FAIL("generating " << folder << " failed (exit " << rc << "): " << cmd << "\n" << text << "\n" << needs);
    }
    fs::remove(log, ec);
    const fs::path old = base / (folder + ".old." + std::to_string(::getpid()));
    if (fs::exists(dir, ec)) fs::rename(dir, old, ec);
    fs::rename(tmp, dir, ec);
    fs::remove_all(old, ec);
    if (!fs::exists(stamp)) FAIL("could not move " << tmp.string() << " to " << dir.string());
    return dir.string();
}

}  // namespace graft::testing
