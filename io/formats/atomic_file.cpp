// AtomicFile (atomic_file.h): temp file, fsync, rename, fsync of the folder.
#include "io/formats/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace graft::io {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

std::string folder_of(const std::string& path) {
    const fs::path parent = fs::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

// <n> in "<path>.tmp.<pid>.<n>": unique within this process, so together with
// the pid the name is unique among running processes.
uint64_t next_temp_number() {
    static std::atomic<uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed);
}

void fsync_folder(const std::string& folder, const std::string& path) {
    const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(dfd >= 0, "AtomicFile", path, ": renamed, but cannot open its folder '", folder, "' to sync it: ",
          errno_text(errno));
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    // Some file systems cannot sync a folder (EINVAL); the rename itself has happened.
    check(rc == 0 || err == EINVAL, "AtomicFile", path, ": renamed, but syncing its folder '", folder,
          "' failed: ", errno_text(err));
}

bool all_digits(std::string_view s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    check(!path_.empty(), "AtomicFile", "empty file name");
    const std::string prefix = path_ + ".tmp." + std::to_string(::getpid()) + ".";
    for (int attempt = 0; attempt < 2; ++attempt) {
        temp_path_ = prefix + std::to_string(next_temp_number());
        fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd_ >= 0) return;
        if (errno != EEXIST) break;
        // Left by a dead process that had our pid (a container restarted):
        // nobody else can own this name now.
        ::unlink(temp_path_.c_str());
    }
    throw Error(cat_str("AtomicFile: ", path_, ": cannot create the temporary file '", temp_path_,
                        "': ", errno_text(errno)));
}

AtomicFile::~AtomicFile() {
    if (!committed_) abandon();
}

void AtomicFile::abandon() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t nbytes) {
    check(fd_ >= 0 && !committed_, "AtomicFile::write", path_, ": the file is already committed or failed");
    const char* p = static_cast<const char*>(data);
    while (nbytes > 0) {
        // Linux writes at most ~2 GiB per call; larger requests come back short.
        const ssize_t n = ::write(fd_, p, nbytes);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            abandon();
            throw Error(cat_str("AtomicFile::write: ", path_, ": writing the temporary file '", temp_path_,
                                "' failed after ", written_, " bytes: ", errno_text(err),
                                " (the previous file is untouched)"));
        }
        p += n;
        nbytes -= size_t(n);
        written_ += size_t(n);
    }
}

void AtomicFile::commit() {
    check(fd_ >= 0 && !committed_, "AtomicFile::commit", path_, ": the file is already committed or failed");
    auto fail = [&](const char* what) {
        const int err = errno;
        abandon();
        throw Error(cat_str("AtomicFile::commit: ", path_, ": ", what, " failed: ", errno_text(err),
                            " (the previous file is untouched)"));
    };
    if (::fsync(fd_) != 0) fail("fsync of the temporary file");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("closing the temporary file");
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) fail("renaming the temporary file over the target");
    committed_ = true;
    fsync_folder(folder_of(path_), path_);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
    AtomicFile file(path);
    file.write(bytes);
    file.commit();
}

int remove_stale_temp_files(const std::string& path) noexcept {
    int removed = 0;
    try {
        const std::string base = fs::path(path).filename().string() + ".tmp.";
        std::error_code ec;
        for (fs::directory_iterator it(folder_of(path), ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.compare(0, base.size(), base) != 0) continue;
            const std::string_view rest = std::string_view(name).substr(base.size());
            const size_t dot = rest.find('.');
            if (dot == std::string_view::npos || !all_digits(rest.substr(0, dot)) || !all_digits(rest.substr(dot + 1)))
                continue;
            const pid_t pid = pid_t(std::stoll(std::string(rest.substr(0, dot))));
            if (pid <= 0 || pid == ::getpid()) continue;  // ours may be another thread's write in progress
            if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
            if (::unlink(it->path().c_str()) == 0) ++removed;
        }
    } catch (...) {
        // Best effort by contract: a sweep that cannot run leaves files behind, nothing worse.
    }
    return removed;
}

}  // namespace graft::io
