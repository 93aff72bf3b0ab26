// Runs a shell command the way a user would and captures what it printed
// (stdout and stderr together) and its exit status: how the tests drive the
// `graft` binary.
//
//   const auto r = graft::testing::run_command(std::string(GRAFT_CLI) + " inspect x.pth");
//   REQUIRE(r.status == 0);
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace graft::testing {

struct CommandResult {
    int status;          // the exit status; -1 when the command did not exit normally
    std::string output;  // stdout and stderr
};

inline CommandResult run_command(const std::string& command) {
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed for: " + command);
    std::string out;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace graft::testing
