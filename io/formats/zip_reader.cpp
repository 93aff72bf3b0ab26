// zip::Index (zip_reader.h): the end record, the central directory and the
// local headers, each bounds-checked against the archive's size before it is
// read. Field offsets follow PKWARE's APPNOTE.TXT (4.3.7, 4.3.12, 4.3.14-16,
// 4.5.3).
#include "io/formats/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace graft::io::zip {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;

uint64_t le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

bool safe_name(const std::string& name) {
    if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos ||
        name.find('\0') != std::string::npos)
        return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        if (name.compare(start, end - start, "..") == 0 && end - start == 2) return false;
        start = end + 1;
    }
    return true;
}

}  // namespace

Index::Index(const uint8_t* data, size_t size, std::string where) : data_(data), size_(size), where_(std::move(where)) {
    const char* w = where_.c_str();
    check(size >= 22, w, "the file is ", size, " bytes, too short for a zip archive");

    // The end record is the last 22 bytes unless an archive comment follows it.
    size_t end = size - 22;
    const size_t lowest = size - 22 > 65535 ? size - 22 - 65535 : 0;
    while (le(data + end, 4) != kEndSig) {
        check(end > lowest, w, "no zip end-of-central-directory record (not a zip file, or truncated)");
        --end;
    }
    uint64_t count = le(data + end + 10, 2);
    uint64_t cd_size = le(data + end + 12, 4);
    uint64_t cd_offset = le(data + end + 16, 4);
    check(le(data + end + 4, 2) == 0 && le(data + end + 6, 2) == 0 && le(data + end + 8, 2) == count, w,
          "multi-disk zip archives are not supported");

    if (end >= 20 && le(data + end - 20, 4) == kZip64LocatorSig) {
        const uint64_t z64 = le(data + end - 20 + 8, 8);
        check(z64 <= end - 20 && end - 20 - z64 >= 56, w, "the ZIP64 end record offset ", z64,
              " is outside the archive");
        const uint8_t* r = data + z64;
        check(le(r, 4) == kZip64EndSig, w, "no ZIP64 end record at byte ", z64);
        check(le(r + 16, 4) == 0 && le(r + 20, 4) == 0 && le(r + 24, 8) == le(r + 32, 8), w,
              "multi-disk zip archives are not supported");
        count = le(r + 32, 8);
        cd_size = le(r + 40, 8);
        cd_offset = le(r + 48, 8);
    }
    check(cd_offset <= size && cd_size <= size - cd_offset, w, "the central directory (", cd_size, " bytes at ",
          cd_offset, ") runs past the end of the file (", size, " bytes)");
    check(count <= cd_size / 46, w, "the end record declares ", count, " entries, more than the ", cd_size,
          "-byte central directory can hold");

    entries_.reserve(size_t(count));
    uint64_t pos = cd_offset;
    const uint64_t cd_end = cd_offset + cd_size;
    for (uint64_t i = 0; i < count; ++i) {
        check(cd_end - pos >= 46 && le(data + pos, 4) == kCentralSig, w, "central directory entry ", i,
              " at byte ", pos, " is corrupt or truncated");
        const uint8_t* c = data + pos;
        const uint64_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2), comment_len = le(c + 32, 2);
        check(cd_end - pos - 46 >= name_len + extra_len + comment_len, w, "central directory entry ", i,
              " runs past the directory");
        Entry e;
        e.name.assign(reinterpret_cast<const char*>(c + 46), size_t(name_len));
        const uint64_t flags = le(c + 8, 2);
        e.method = uint16_t(le(c + 10, 2));
        e.crc32 = uint32_t(le(c + 16, 4));
        e.compressed_size = le(c + 20, 4);
        e.size = le(c + 24, 4);
        e.local_header_offset = le(c + 42, 4);
        check(safe_name(e.name), w, "zip entry '", e.name, "': unsafe name (empty, absolute, '\\', NUL or '..')");
        check(!(flags & 1), w, "zip entry '", e.name, "' is encrypted");
        check(e.method == 0 || e.method == 8, w, "zip entry '", e.name, "' uses compression method ", e.method,
              " (only stored and deflate are supported)");

        // ZIP64 extra field: the 8-byte values of the 32-bit fields set to all ones, in this order.
        const uint8_t* x = c + 46 + name_len;
        for (uint64_t at = 0; at + 4 <= extra_len;) {
            const uint64_t id = le(x + at, 2), len = le(x + at + 2, 2);
            check(at + 4 + len <= extra_len, w, "zip entry '", e.name, "': an extra field runs past its block");
            if (id == 1) {
                uint64_t field = at + 4;
                for (uint64_t* value : {&e.size, &e.compressed_size, &e.local_header_offset}) {
                    if (*value != 0xffffffffu) continue;
                    check(field + 8 <= at + 4 + len, w, "zip entry '", e.name, "': the ZIP64 extra field is short");
                    *value = le(x + field, 8);
                    field += 8;
                }
            }
            at += 4 + len;
        }

        const uint64_t lho = e.local_header_offset;
        check(lho <= size && size - lho >= 30 && le(data + lho, 4) == kLocalSig, w, "zip entry '", e.name,
              "': no local header at byte ", lho);
        const uint8_t* l = data + lho;
        const uint64_t local_name_len = le(l + 26, 2), local_extra_len = le(l + 28, 2);
        check(size - lho - 30 >= local_name_len + local_extra_len, w, "zip entry '", e.name,
              "': the local header runs past the end of the file");
        check(local_name_len == name_len && std::equal(c + 46, c + 46 + name_len, l + 30), w, "zip entry '", e.name,
              "': the local header names '", std::string(reinterpret_cast<const char*>(l + 30), size_t(local_name_len)),
              "', not the central directory's name");
        check(le(l + 8, 2) == e.method, w, "zip entry '", e.name, "': the local header's method ", le(l + 8, 2),
              " differs from the central directory's ", e.method);
        e.data_offset = lho + 30 + local_name_len + local_extra_len;
        check(e.compressed_size <= size - e.data_offset, w, "zip entry '", e.name, "': its ", e.compressed_size,
              " bytes at ", e.data_offset, " run past the end of the file (", size, " bytes)");
        check(e.method != 0 || e.size == e.compressed_size, w, "zip entry '", e.name, "' is stored but its sizes differ (",
              e.compressed_size, " vs ", e.size, ")");
        check(by_name_.emplace(e.name, entries_.size()).second, w, "zip entry '", e.name, "' appears twice");
        entries_.push_back(std::move(e));
        pos += 46 + name_len + extra_len + comment_len;
    }
}

const Entry* Index::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &entries_[it->second];
}

const uint8_t* Index::stored_data(const Entry& entry) const { return data_ + entry.data_offset; }

std::string Index::read(const Entry& entry) const {
    const char* w = where_.c_str();
    if (entry.method == 0) return std::string(reinterpret_cast<const char*>(stored_data(entry)), size_t(entry.size));
    // Deflate cannot expand data more than ~1032x; a larger declared size is a lie.
    check(entry.size <= entry.compressed_size * 1032 + 64, w, "zip entry '", entry.name, "' declares ", entry.size,
          " bytes from ", entry.compressed_size, " compressed");
    std::string out(size_t(entry.size), '\0');
    z_stream z{};
    check(inflateInit2(&z, -MAX_WBITS) == Z_OK, w, "zlib inflateInit2 failed");
    z.next_in = const_cast<Bytef*>(stored_data(entry));
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    uint64_t in_left = entry.compressed_size, out_left = entry.size;
    int rc = Z_OK;
    while (rc == Z_OK) {
        const uInt in_chunk = uInt(std::min<uint64_t>(in_left, std::numeric_limits<uInt>::max()));
        const uInt out_chunk = uInt(std::min<uint64_t>(out_left, std::numeric_limits<uInt>::max()));
        z.avail_in = in_chunk;
        z.avail_out = out_chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        in_left -= in_chunk - z.avail_in;
        out_left -= out_chunk - z.avail_out;
        if (rc == Z_OK && z.avail_in == in_chunk && z.avail_out == out_chunk) rc = Z_BUF_ERROR;  // no progress
    }
    inflateEnd(&z);
    check(rc == Z_STREAM_END && out_left == 0, w, "zip entry '", entry.name, "': the deflated data is corrupt");
    const uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(out.data()), out.size());
    check(crc == entry.crc32, w, "zip entry '", entry.name, "': CRC mismatch");
    return out;
}

}  // namespace graft::io::zip
