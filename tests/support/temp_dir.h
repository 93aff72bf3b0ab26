// A fresh folder under the system temp dir for one test, removed with everything
// in it when the object dies. Names carry the process id and a counter, so tests
// running in parallel (ctest -j) never share one.
//
//   TempDir dir("ckpt");
//   const std::string path = dir.write("a/b.csv", "1,2\n");   // parents created
//   read_csv(dir.file("a/b.csv"));
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace graft::testing {

class TempDir {
public:
    explicit TempDir(const std::string& tag = "test") {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("graft_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // The path of `name` inside the folder (nothing is created).
    std::string file(const std::string& name) const { return (path / name).string(); }
    // Writes `bytes` to `name` (binary), creating parent folders; returns its path.
    std::string write(const std::string& name, const std::string& bytes = "x") const {
        const std::filesystem::path p = path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << bytes;
        return p.string();
    }
    std::string str() const { return path.string(); }
    // File names directly inside the folder.
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
        return out;
    }

    std::filesystem::path path;
};

}  // namespace graft::testing
