// A read-only index of a zip archive held in memory (a memory map), made for
// torch.save's zip files: it gives each entry's byte offset in the archive so
// that stored (uncompressed) entries can be viewed in place, without a copy.
//
// Why our own parser and not libzip or minizip: neither exposes the offset of
// an entry's data, only a read into a caller's buffer, and reading a 100 MB
// checkpoint through them would copy every byte once more. What is parsed here
// is small: the end-of-central-directory record (and its ZIP64 form, which
// torch 2.x always writes), the central directory, and each entry's local
// header (only for its name and extra-field length). Deflated entries, which
// torch never writes, are inflated with zlib.
//
// Refused, each with a graft::Error naming `where` and the entry: no end
// record, multi-disk archives, a central directory or entry past the end of
// the data, encrypted entries, methods other than stored and deflate, a local
// header whose signature, name or method disagree with the central directory,
// names that are empty, absolute, contain "\\", NUL or a ".." component, and
// two entries with the same name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace graft::io::zip {

struct Entry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflate
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t size = 0;
    uint64_t local_header_offset = 0;
    uint64_t data_offset = 0;  // first byte of the (possibly compressed) data
};

class Index {
public:
    // Parses the directory of the archive in data[0, size); the bytes must
    // outlive the index.
    Index(const uint8_t* data, size_t size, std::string where);

    const std::vector<Entry>& entries() const { return entries_; }
    const Entry* find(const std::string& name) const;

    // A stored entry's bytes, in place.
    const uint8_t* stored_data(const Entry& entry) const;
    // The entry's bytes, inflated (and CRC-checked) when deflated.
    std::string read(const Entry& entry) const;

private:
    const uint8_t* data_;
    size_t size_;
    std::string where_;
    std::vector<Entry> entries_;
    std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace graft::io::zip
