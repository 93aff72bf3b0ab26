// IDX reader: header parsing and validation, bounded streaming of the payload
// through zlib's gz* API (which also reads raw files), and the big-endian to
// native conversion. The format and the rules are described in idx.h.
#include "io/datasets/idx.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace graft::io {

namespace {

constexpr int kMaxDims = 8;
// Read granularity, and the first allocation for a compressed payload.
constexpr uint64_t kChunk = uint64_t(1) << 22;

template <typename... Parts>
[[noreturn]] void fail(const std::string& path, const Parts&... parts) {
    throw Error(cat_str("read_idx: ", path, ": ", parts...));
}

std::string hex_byte(unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", v & 0xFFu);
    return buf;
}

struct ElementType {
    uint8_t code;
    size_t bytes;  // in the file
    const char* name;
    DType dtype;   // in the tensor
};

constexpr ElementType kTypes[] = {
    {0x08, 1, "uint8", DType::UInt8},     {0x09, 1, "int8", DType::Int32},
    {0x0B, 2, "int16", DType::Int32},     {0x0C, 4, "int32", DType::Int32},
    {0x0D, 4, "float32", DType::Float32}, {0x0E, 8, "float64", DType::Float64},
};

// Where the bytes come from: a file (GzReader) or memory (MemoryReader). read()
// returns up to n bytes, fewer meaning the data ended, and throws on a damaged
// gzip stream.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual uint64_t read(void* dst, uint64_t n) = 0;
};

// A gz-opened file: gzip streams are inflated, anything else is passed through.
class GzReader final : public ByteSource {
public:
    explicit GzReader(const std::string& path) : path_(path) {
        file_ = gzopen(path.c_str(), "rb");
        if (!file_) fail(path, "cannot open: ", std::strerror(errno));
        gzbuffer(file_, 1u << 18);  // before the first read; the default 8 KiB is slow
    }
    ~GzReader() { gzclose(file_); }
    GzReader(const GzReader&) = delete;
    GzReader& operator=(const GzReader&) = delete;

    // Reads up to n bytes; fewer means the data ended. A damaged or cut-off gzip
    // stream throws here rather than looking like a short file.
    uint64_t read(void* dst, uint64_t n) override {
        uint64_t got = 0;
        while (got < n) {
            const unsigned ask = unsigned(std::min<uint64_t>(n - got, kChunk));
            const int r = gzread(file_, static_cast<char*>(dst) + got, ask);
            if (r > 0) total_ += uint64_t(r);
            check_stream();
            if (r <= 0) break;
            got += uint64_t(r);
        }
        return got;
    }

private:
    void check_stream() {
        int err = Z_OK;
        const char* msg = gzerror(file_, &err);
        if (err == Z_OK) return;
        if (err == Z_BUF_ERROR)
            fail(path_, "gzip stream ends early (truncated .gz file) after ", total_, " decompressed bytes");
        if (err == Z_ERRNO) fail(path_, "read error: ", std::strerror(errno));
        fail(path_, "corrupt gzip stream: ", msg);
    }

    std::string path_;
    gzFile file_ = nullptr;
    uint64_t total_ = 0;  // decompressed bytes delivered so far, header included
};

// Bytes in memory: a gzip stream (1f 8b) is inflated with zlib, anything else
// is copied out as is. Like gzread, data after the gzip stream's end is read
// as a further gzip member.
class MemoryReader final : public ByteSource {
public:
    MemoryReader(const void* data, size_t size, const std::string& name)
        : name_(name), data_(static_cast<const unsigned char*>(data)), size_(size) {
        gzip_ = size >= 2 && data_[0] == 0x1f && data_[1] == 0x8b;
        if (gzip_) start_member();
    }
    ~MemoryReader() {
        if (gzip_) inflateEnd(&z_);
    }
    MemoryReader(const MemoryReader&) = delete;
    MemoryReader& operator=(const MemoryReader&) = delete;

    uint64_t read(void* dst, uint64_t n) override {
        if (!gzip_) {
            const uint64_t got = std::min<uint64_t>(n, size_ - pos_);
            if (got) std::memcpy(dst, data_ + pos_, size_t(got));
            pos_ += size_t(got);
            return got;
        }
        uint64_t got = 0;
        while (got < n && !finished_) {
            z_.next_out = static_cast<Bytef*>(dst) + got;
            z_.avail_out = unsigned(std::min<uint64_t>(n - got, kChunk));
            const unsigned before = z_.avail_out;
            const int r = inflate(&z_, Z_NO_FLUSH);
            got += before - z_.avail_out;
            if (r == Z_STREAM_END) {
                if (z_.avail_in == 0) finished_ = true;
                else if (inflateReset(&z_) != Z_OK) fail(name_, "corrupt gzip stream");
            } else if (r == Z_BUF_ERROR && z_.avail_in == 0) {
                fail(name_, "gzip stream ends early (truncated .gz data) after ", z_.total_out, " decompressed bytes");
            } else if (r != Z_OK && r != Z_BUF_ERROR) {
                fail(name_, "corrupt gzip stream: ", z_.msg ? z_.msg : "zlib error");
            }
        }
        return got;
    }

private:
    void start_member() {
        z_ = z_stream{};
        z_.next_in = const_cast<Bytef*>(data_);
        z_.avail_in = uInt(std::min<size_t>(size_, UINT_MAX));
        if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) fail(name_, "cannot start zlib");
    }

    std::string name_;
    const unsigned char* data_;
    size_t size_;
    size_t pos_ = 0;
    bool gzip_ = false;
    bool finished_ = false;
    z_stream z_{};
};

bool starts_with_gzip_magic(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) fail(path, "cannot open: ", std::strerror(errno));
    unsigned char magic[2] = {0, 0};
    const size_t n = std::fread(magic, 1, 2, f);
    std::fclose(f);
    return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

uint32_t be32(const unsigned char* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

struct Header {
    const ElementType* type = nullptr;
    Shape shape;
    uint64_t header_bytes = 0;
    uint64_t data_bytes = 0;  // as declared: numel * type->bytes
};

Header read_header(ByteSource& in, const std::string& path) {
    unsigned char magic[4];
    const uint64_t got = in.read(magic, 4);
    if (got < 4) fail(path, "too short for an IDX header (", got, " bytes; the magic alone is 4)");
    if (magic[0] != 0 || magic[1] != 0)
        fail(path, "bad magic: first two bytes are ", hex_byte(magic[0]), " ", hex_byte(magic[1]),
             ", an IDX file starts with 0x00 0x00");
    Header h;
    for (const ElementType& t : kTypes)
        if (t.code == magic[2]) h.type = &t;
    if (!h.type)
        fail(path, "unknown element type byte ", hex_byte(magic[2]),
             " (known: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)");
    const int ndim = magic[3];
    if (ndim < 1 || ndim > kMaxDims) fail(path, "ndim ", ndim, " is out of range (1..", kMaxDims, ")");

    unsigned char dims[4 * kMaxDims];
    const uint64_t dims_got = in.read(dims, uint64_t(4 * ndim));
    if (dims_got < uint64_t(4 * ndim))
        fail(path, "header ends early: ", ndim, " sizes need ", 4 * ndim, " bytes, found ", dims_got);
    uint64_t bytes = h.type->bytes;
    bool overflow = false;
    for (int d = 0; d < ndim; ++d) {
        h.shape.push_back(int64_t(be32(dims + 4 * d)));
        overflow |= __builtin_mul_overflow(bytes, uint64_t(h.shape.back()), &bytes);
    }
    if (overflow || bytes > uint64_t(INT64_MAX))
        fail(path, "declared sizes ", shape_str(h.shape), " of ", h.type->name,
             " overflow a 63-bit byte count");
    h.header_bytes = 4 + 4 * uint64_t(ndim);
    h.data_bytes = bytes;
    return h;
}

[[noreturn]] void fail_truncated(const std::string& path, const Header& h, uint64_t present) {
    fail(path, "truncated: sizes ", shape_str(h.shape), " of ", h.type->name, " declare ", h.data_bytes,
         " data bytes but only ", present, " are present");
}

// Reads exactly h.data_bytes into a fresh buffer. The buffer starts at
// `first_capacity` and doubles as data arrives, so a header that lies about its
// sizes costs at most about twice the bytes the file really holds.
StoragePtr read_payload(ByteSource& in, const std::string& path, const Header& h, uint64_t first_capacity) {
    const uint64_t want = h.data_bytes;
    uint64_t cap = std::min(want, std::max<uint64_t>(first_capacity, 1));
    StoragePtr buf = Storage::allocate(size_t(cap), Device::cpu());
    uint64_t have = 0;
    while (have < want) {
        if (have == cap) {
            cap = std::min(want, 2 * cap);
            StoragePtr bigger = Storage::allocate(size_t(cap), Device::cpu());
            std::memcpy(bigger->data(), buf->data(), size_t(have));
            buf = std::move(bigger);
        }
        const uint64_t got = in.read(static_cast<char*>(buf->data()) + have, std::min(cap - have, kChunk));
        if (got == 0) fail_truncated(path, h, have);
        have += got;
    }
    return buf;
}

[[noreturn]] void fail_trailing(const std::string& path, const Header& h, uint64_t extra) {
    fail(path, extra, " bytes of trailing data after the ", h.data_bytes, " data bytes declared by sizes ",
         shape_str(h.shape), " (trailing data is refused)");
}

// Reading on to the end also makes zlib check the gzip trailer (CRC and length).
void refuse_trailing(ByteSource& in, const std::string& path, const Header& h) {
    char extra[4096];
    uint64_t total = 0;
    for (uint64_t got; (got = in.read(extra, sizeof extra)) > 0;) total += got;
    if (total > 0) fail_trailing(path, h, total);
}

// The payload, big-endian as stored, turned into a tensor of native values.
Tensor to_native(StoragePtr bytes, const Header& h) {
    const Shape& shape = h.shape;
    const int64_t n = shape_numel(shape);
    const auto* src = static_cast<const unsigned char*>(bytes->data());
    if (h.type->code == 0x09 || h.type->code == 0x0B) {  // widened to int32
        Tensor out = Tensor::empty(shape, DType::Int32);
        int32_t* dst = out.data<int32_t>();
        if (h.type->code == 0x09)
            for (int64_t i = 0; i < n; ++i) dst[i] = int8_t(src[i]);
        else
            for (int64_t i = 0; i < n; ++i) dst[i] = int16_t(uint16_t(src[2 * i] << 8 | src[2 * i + 1]));
        return out;
    }
    if constexpr (std::endian::native == std::endian::little) {
        auto* p = static_cast<unsigned char*>(bytes->data());
        if (h.type->bytes == 4) {
            for (int64_t i = 0; i < n; ++i) {
                uint32_t v;
                std::memcpy(&v, p + 4 * i, 4);
                v = __builtin_bswap32(v);
                std::memcpy(p + 4 * i, &v, 4);
            }
        } else if (h.type->bytes == 8) {
            for (int64_t i = 0; i < n; ++i) {
                uint64_t v;
                std::memcpy(&v, p + 8 * i, 8);
                v = __builtin_bswap64(v);
                std::memcpy(p + 8 * i, &v, 8);
            }
        }
    }
    return Tensor::from_storage(std::move(bytes), shape, contiguous_strides(shape), 0, h.type->dtype);
}

}  // namespace

Tensor read_idx(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) fail(path, "no such file");
    if (fs::is_directory(status)) fail(path, "is a directory, not an IDX file");

    const bool gzip = starts_with_gzip_magic(path);
    GzReader in(path);
    const Header h = read_header(in, path);
    if (h.data_bytes == 0) {
        refuse_trailing(in, path, h);
        return Tensor::empty(h.shape, h.type->dtype);
    }
    uint64_t first_capacity = kChunk;
    if (!gzip && fs::is_regular_file(status)) {
        // A raw file's size is known: check the declared sizes against it up front.
        const uint64_t file_bytes = fs::file_size(path, ec);
        if (!ec) {
            const uint64_t present = file_bytes - std::min(file_bytes, h.header_bytes);
            if (present < h.data_bytes) fail_truncated(path, h, present);
            if (present > h.data_bytes) fail_trailing(path, h, present - h.data_bytes);
            first_capacity = h.data_bytes;
        }
    }
    StoragePtr bytes = read_payload(in, path, h, first_capacity);
    refuse_trailing(in, path, h);
    return to_native(std::move(bytes), h);
}

Tensor parse_idx(const void* data, size_t size, const std::string& name) {
    MemoryReader in(data, size, name);
    const Header h = read_header(in, name);
    if (h.data_bytes == 0) {
        refuse_trailing(in, name, h);
        return Tensor::empty(h.shape, h.type->dtype);
    }
    const bool raw = !(size >= 2 && static_cast<const unsigned char*>(data)[0] == 0x1f &&
                       static_cast<const unsigned char*>(data)[1] == 0x8b);
    if (raw) {
        const uint64_t present = uint64_t(size) - std::min<uint64_t>(size, h.header_bytes);
        if (present < h.data_bytes) fail_truncated(name, h, present);
        if (present > h.data_bytes) fail_trailing(name, h, present - h.data_bytes);
    }
    StoragePtr bytes = read_payload(in, name, h, raw ? h.data_bytes : kChunk);
    refuse_trailing(in, name, h);
    return to_native(std::move(bytes), h);
}

}  // namespace graft::io
