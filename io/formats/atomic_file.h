// AtomicFile: writing a file so that readers (and a crash) only ever see the old
// complete file or the new complete one, never a torn mixture.
//
//   io::AtomicFile out(path);          // creates <path>.tmp.<pid>.<n> beside the target
//   out.write(header.data(), header.size());
//   out.write(tensor_bytes, nbytes);
//   out.commit();                      // fsync file, rename over <path>, fsync the folder
//
// The temporary file lives in the target's folder, so the final rename(2) stays
// within one file system and is atomic. Its contents are fsync'ed before the
// rename and the folder after it, so once commit() returns the new file
// survives a power cut. If anything fails (or the object is destroyed without
// commit(), e.g. by an exception in the caller), the temporary file is removed
// and the previous file at `path` is untouched. A process killed mid-write
// leaves its temporary file behind; remove_stale_temp_files() sweeps those
// (the checkpoint writer calls it after every save).
//
// Every error is a graft::Error naming the file and the system's reason.
// Not handled: preserving the old file's permissions or owner (the new file
// gets the usual 0666 & ~umask), Windows.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace graft::io {

class AtomicFile {
public:
    // Opens a fresh temporary file next to `path`. Throws Error if the folder
    // is missing or not writable.
    explicit AtomicFile(std::string path);
    ~AtomicFile();  // removes the temporary file unless commit() succeeded
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    // Appends bytes (retries short writes; throws Error on failure, e.g. a full disk).
    void write(const void* data, size_t nbytes);
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
    // Makes the written bytes the file at `path`. Call once.
    void commit();

    const std::string& path() const { return path_; }
    const std::string& temp_path() const { return temp_path_; }
    size_t bytes_written() const { return written_; }

private:
    void abandon() noexcept;
    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
    size_t written_ = 0;
    bool committed_ = false;
};

// Writes `bytes` to `path` atomically (AtomicFile in one call).
void write_file_atomic(const std::string& path, std::string_view bytes);

// Removes "<path>.tmp.<pid>.<n>" files left by processes that no longer run
// (killed in the middle of an AtomicFile write). Files of live processes are
// left alone. Returns how many were removed; never throws.
int remove_stale_temp_files(const std::string& path) noexcept;

}  // namespace graft::io
