// read_safetensors (safetensors.h): map the file, validate the whole header
// against the file, then hand out tensors that view the mapping.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/ops/creation.h"
#include "io/formats/safetensors.h"
#include "io/formats/safetensors_format.h"

namespace graft::io {

namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; big-endian hosts are not supported");

using Json = nlohmann::ordered_json;
using safetensors::DTypeInfo;

// A private, writable (copy-on-write) map of the whole file, unmapped when the
// last tensor viewing it dies.
struct Mapping {
    void* addr = nullptr;
    size_t size = 0;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping(void* a, size_t s) : addr(a), size(s) {}
    ~Mapping() {
        if (addr) ::munmap(addr, size);
    }
    const unsigned char* bytes() const { return static_cast<const unsigned char*>(addr); }
};

struct FileCloser {
    int fd;
    ~FileCloser() { ::close(fd); }
};

struct Entry {
    std::string name;
    const DTypeInfo* dtype = nullptr;
    Shape shape;
    uint64_t begin = 0, end = 0;
};

std::string offsets_str(const Entry& e) { return cat_str("[", e.begin, ", ", e.end, "]"); }

// The byte count of `shape` in `dtype`, or an error when it cannot exist:
// products are checked for overflow, so a declared shape of 2^40 x 2^40 fails
// here instead of reaching an allocation.
uint64_t byte_count(const Entry& e, const std::string& where) {
    uint64_t numel = 1, nonzero = 1;
    bool overflow = false;
    for (int64_t d : e.shape) {
        overflow |= __builtin_mul_overflow(numel, uint64_t(d), &numel);
        if (d != 0) overflow |= __builtin_mul_overflow(nonzero, uint64_t(d), &nonzero);
    }
    uint64_t bits = 0;
    overflow |= __builtin_mul_overflow(numel, uint64_t(e.dtype->bits), &bits);
    // The product of the non-zero sizes bounds every stride: it must fit int64.
    overflow |= nonzero > uint64_t(std::numeric_limits<int64_t>::max());
    check(!overflow, where.c_str(), "tensor '", e.name, "': shape ", shape_str(e.shape), " of ", e.dtype->name,
          " is too large (its size overflows 64 bits)");
    check(bits % 8 == 0, where.c_str(), "tensor '", e.name, "': shape ", shape_str(e.shape), " of ", e.dtype->name,
          " is ", bits, " bits, not a whole number of bytes");
    return bits / 8;
}

uint64_t read_unsigned(const Json& value, const std::string& where, const std::string& name, const char* field,
                       size_t index) {
    if (value.is_number_unsigned()) return value.get<uint64_t>();
    throw Error(cat_str(where, ": tensor '", name, "': ", field, "[", index, "] is ", value.dump(),
                        ", expected a non-negative integer"));
}

Entry parse_entry(const std::string& name, const Json& value, const std::string& where) {
    Entry e;
    e.name = name;
    check(value.is_object(), where.c_str(), "tensor '", name, "': the entry is ", value.dump(),
          ", expected an object with dtype, shape and data_offsets");
    for (const char* field : {"dtype", "shape", "data_offsets"})
        check(value.contains(field), where.c_str(), "tensor '", name, "': the entry has no \"", field, "\"");

    const Json& dtype = value["dtype"];
    check(dtype.is_string(), where.c_str(), "tensor '", name, "': dtype is ", dtype.dump(), ", expected a string");
    e.dtype = safetensors::find_dtype(dtype.get<std::string>());
    check(e.dtype != nullptr, where.c_str(), "tensor '", name, "': unknown dtype ", dtype.dump());

    const Json& shape = value["shape"];
    check(shape.is_array(), where.c_str(), "tensor '", name, "': shape is ", shape.dump(), ", expected an array");
    for (size_t i = 0; i < shape.size(); ++i) {
        const uint64_t d = read_unsigned(shape[i], where, name, "shape", i);
        check(d <= uint64_t(std::numeric_limits<int64_t>::max()), where.c_str(), "tensor '", name, "': shape[", i,
              "] is ", d, ", too large");
        e.shape.push_back(int64_t(d));
    }

    const Json& offsets = value["data_offsets"];
    check(offsets.is_array() && offsets.size() == 2, where.c_str(), "tensor '", name, "': data_offsets is ",
          offsets.dump(), ", expected [begin, end]");
    e.begin = read_unsigned(offsets[0], where, name, "data_offsets", 0);
    e.end = read_unsigned(offsets[1], where, name, "data_offsets", 1);
    return e;
}

// Header checks that need the whole set of entries and the buffer size.
void check_layout(std::vector<Entry>& entries, uint64_t buffer_size, const std::string& where) {
    for (const Entry& e : entries) {
        check(e.begin <= e.end, where.c_str(), "tensor '", e.name, "': data_offsets ", offsets_str(e),
              " end before they begin");
        check(e.end <= buffer_size, where.c_str(), "tensor '", e.name, "': data_offsets ", offsets_str(e),
              " run past the end of the data (", buffer_size, " bytes after the header)");
        const uint64_t nbytes = byte_count(e, where);
        check(e.end - e.begin == nbytes, where.c_str(), "tensor '", e.name, "': data_offsets ", offsets_str(e),
              " hold ", e.end - e.begin, " bytes, but shape ", shape_str(e.shape), " of ", e.dtype->name, " needs ",
              nbytes);
    }
    std::vector<const Entry*> order;
    for (const Entry& e : entries) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t cursor = 0;
    const Entry* previous = nullptr;
    for (const Entry* e : order) {
        if (e->begin < cursor)
            throw Error(cat_str(where, ": tensor '", e->name, "' (data_offsets ", offsets_str(*e),
                                ") overlaps tensor '", previous->name, "' (data_offsets ", offsets_str(*previous), ")"));
        check(e->begin == cursor, where.c_str(), "a gap of ", e->begin - cursor, " bytes before tensor '", e->name,
              "' (data_offsets ", offsets_str(*e), "): the tensors must cover the data without holes");
        cursor = e->end;
        previous = e;
    }
    check(cursor == buffer_size, where.c_str(), "the tensors end at byte ", cursor, " of the data but the file holds ",
          buffer_size, " (", buffer_size - cursor, " trailing bytes)");
}

void parse_metadata(const Json& value, NamedTensors& out, const std::string& where) {
    check(value.is_object(), where.c_str(), "__metadata__ is ", value.dump(), ", expected an object of strings");
    for (const auto& item : value.items()) {
        check(item.value().is_string(), where.c_str(), "__metadata__[\"", item.key(), "\"] is ", item.value().dump(),
              ", expected a string");
        out.metadata[item.key()] = item.value().get<std::string>();
    }
}

Tensor make_tensor(const Entry& e, DType dtype, const unsigned char* data, const std::shared_ptr<Mapping>& map,
                   bool copy, const std::string& where) {
    const size_t nbytes = size_t(e.end - e.begin);
    if (dtype == DType::Bool) {
        // Any byte but 0 and 1 would be an invalid C++ bool.
        for (size_t i = 0; i < nbytes; ++i)
            check(data[i] <= 1, where.c_str(), "tensor '", e.name, "': BOOL element ", i, " is byte ", int(data[i]),
                  ", expected 0 or 1");
    }
    const size_t itemsize = element_size(dtype);
    if (copy || nbytes == 0 || reinterpret_cast<uintptr_t>(data) % itemsize != 0) {
        Tensor t = empty(e.shape, dtype);
        if (nbytes) std::memcpy(t.raw_data(), data, nbytes);
        return t;
    }
    auto* keep = new std::shared_ptr<Mapping>(map);
    auto release = [](void*, void* context) { delete static_cast<std::shared_ptr<Mapping>*>(context); };
    StoragePtr storage = Storage::wrap(const_cast<unsigned char*>(data), nbytes, Device::cpu(), release, keep);
    return Tensor::from_storage(std::move(storage), e.shape, contiguous_strides(e.shape), 0, dtype);
}

}  // namespace

NamedTensors read_safetensors(const std::string& path, const SafetensorsReadOptions& options) {
    const std::string where = "read_safetensors: " + path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, where.c_str(), "cannot open the file: ", std::strerror(errno));
    FileCloser closer{fd};
    struct stat st {};
    check(::fstat(fd, &st) == 0, where.c_str(), "cannot stat the file: ", std::strerror(errno));
    check(S_ISREG(st.st_mode), where.c_str(), "not a regular file");
    const uint64_t size = uint64_t(st.st_size);
    check(size >= 8, where.c_str(), "the file is ", size, " bytes, too short for the 8-byte header length");

    void* addr = ::mmap(nullptr, size_t(size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    check(addr != MAP_FAILED, where.c_str(), "cannot map the file: ", std::strerror(errno));
    auto map = std::make_shared<Mapping>(addr, size_t(size));

    uint64_t header_len = 0;
    std::memcpy(&header_len, map->bytes(), 8);  // little-endian, as the host
    check(header_len <= safetensors::kMaxHeaderBytes, where.c_str(), "header length ", header_len,
          " exceeds the format's limit of ", safetensors::kMaxHeaderBytes, " bytes");
    check(header_len <= size - 8, where.c_str(), "header length ", header_len, " runs past the end of the file (",
          size, " bytes)");
    const std::string_view header(reinterpret_cast<const char*>(map->bytes()) + 8, size_t(header_len));
    check(!header.empty() && header[0] == '{', where.c_str(), "the header does not start with '{'");

    const Json json = safetensors::parse_json_strict(header, where + ": header");
    check(json.is_object(), where.c_str(), "the header is not a JSON object");

    NamedTensors out;
    std::vector<Entry> entries;
    for (const auto& item : json.items()) {
        if (item.key() == "__metadata__") {
            parse_metadata(item.value(), out, where);
            continue;
        }
        entries.push_back(parse_entry(item.key(), item.value(), where));
    }
    const uint64_t buffer_size = size - 8 - header_len;
    check_layout(entries, buffer_size, where);
    for (const Entry& e : entries)
        check(e.dtype->graft.has_value(), where.c_str(), "tensor '", e.name, "': dtype ", e.dtype->name,
              " is valid safetensors but Graft has no such type");

    const unsigned char* data = map->bytes() + 8 + header_len;
    for (const Entry& e : entries)
        out.set(e.name, make_tensor(e, *e.dtype->graft, data + e.begin, map, options.copy, where));
    return out;
}

}  // namespace graft::io
