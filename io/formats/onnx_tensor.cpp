// One ONNX TensorProto -> Tensor (onnx_tensor.h). Order of work: the type, the
// shape and its byte count (overflow-checked), exactly one data source whose
// size equals that count, and only then the allocation and the copy, so a file
// that claims a 2^40-element tensor is refused without allocating it.
#if defined(GRAFT_HAVE_ONNX)

#include "io/formats/onnx_tensor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>

#include "core/error.h"

namespace graft::io::onnx_detail {

namespace {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian; big-endian hosts are not supported");

namespace fs = std::filesystem;
using onnx::TensorProto;

std::optional<DType> graft_dtype(int data_type) {
    switch (data_type) {
        case TensorProto::FLOAT: return DType::Float32;
        case TensorProto::DOUBLE: return DType::Float64;
        case TensorProto::FLOAT16: return DType::Float16;
        case TensorProto::BFLOAT16: return DType::BFloat16;
        case TensorProto::INT64: return DType::Int64;
        case TensorProto::INT32: return DType::Int32;
        case TensorProto::UINT8: return DType::UInt8;
        case TensorProto::BOOL: return DType::Bool;
        default: return std::nullopt;
    }
}

struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

// Decimal digits only ("4096"), no sign, no overflow.
std::optional<uint64_t> parse_decimal(const std::string& text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        if (__builtin_mul_overflow(value, uint64_t(10), &value) || __builtin_add_overflow(value, uint64_t(c - '0'), &value))
            return std::nullopt;
    }
    return value;
}

// The file named by `location`, refused unless it stays inside the model's folder.
fs::path external_path(const std::string& location, const std::string& label, const TensorContext& ctx) {
    const char* where = ctx.where.c_str();
    check(!location.empty(), where, label, ": external data with an empty \"location\"");
    check(location.find('\0') == std::string::npos, where, label, ": external data location contains a NUL byte");
    const fs::path rel(location);
    check(!rel.is_absolute(), where, label, ": external data location '", location,
          "' is an absolute path; it must be relative to the model's folder");
    for (const fs::path& part : rel)
        check(part != "..", where, label, ": external data location '", location,
              "' contains '..'; it must stay inside the model's folder");
    std::error_code ec;
    const fs::path dir = fs::canonical(ctx.model_dir.empty() ? fs::path(".") : fs::path(ctx.model_dir), ec);
    check(!ec, where, label, ": cannot resolve the model's folder '", ctx.model_dir, "': ", ec.message());
    const fs::path file = fs::canonical(dir / rel, ec);
    check(!ec, where, label, ": external data file '", location, "' (", (dir / rel).string(), "): ", ec.message());
    // Component-wise prefix test: /a/bc is not inside /a/b.
    auto [d, f] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
    check(d == dir.end() && f != file.end(), where, label, ": external data location '", location, "' resolves to '",
          file.string(), "', outside the model's folder '", dir.string(), "' (a symlink?); refused");
    return file;
}

void read_external(const TensorProto& proto, const std::string& label, const TensorContext& ctx, uint64_t nbytes,
                   const Shape& shape, DType dtype, Tensor& out) {
    const char* where = ctx.where.c_str();
    std::optional<std::string> location;
    std::optional<uint64_t> offset, length;
    for (const auto& entry : proto.external_data()) {
        const std::string& key = entry.key();
        if (key == "location") {
            check(!location, where, label, ": external data has two \"location\" entries");
            location = entry.value();
        } else if (key == "offset" || key == "length") {
            auto& slot = key == "offset" ? offset : length;
            check(!slot, where, label, ": external data has two \"", key, "\" entries");
            slot = parse_decimal(entry.value());
            check(slot.has_value(), where, label, ": external data ", key, " '", entry.value(),
                  "' is not a non-negative decimal integer below 2^64");
        }
        // "checksum" (SHA-1) and unknown keys are ignored.
    }
    check(location.has_value(), where, label, ": external data without a \"location\"");
    const fs::path file = external_path(*location, label, ctx);

    // `file` is canonical: O_NOFOLLOW refuses a symlink put in its place since the check.
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    check(fd >= 0, where, label, ": cannot open external data file '", file.string(), "': ", std::strerror(errno));
    FdCloser closer{fd};
    struct stat st {};
    check(::fstat(fd, &st) == 0, where, label, ": cannot stat '", file.string(), "': ", std::strerror(errno));
    check(S_ISREG(st.st_mode), where, label, ": external data '", file.string(), "' is not a regular file");
    const uint64_t file_size = uint64_t(st.st_size);
    const uint64_t begin = offset.value_or(0);
    check(begin <= file_size, where, label, ": external data offset ", begin, " is past the end of '", *location,
          "' (", file_size, " bytes)");
    const uint64_t count = length.value_or(file_size - begin);
    uint64_t end = 0;
    check(!__builtin_add_overflow(begin, count, &end) && end <= file_size, where, label, ": external data offset ",
          begin, " + length ", count, " runs past the end of '", *location, "' (", file_size, " bytes)");
    check(count == nbytes, where, label, ": external data in '", *location, "' holds ", count, " bytes, but shape ",
          shape_str(shape), " of ", onnx_type_name(proto.data_type()), " needs ", nbytes);

    out = Tensor::empty(shape, dtype);
    auto* dst = static_cast<char*>(out.raw_data());
    for (uint64_t done = 0; done < nbytes;) {
        const ssize_t n = ::pread(fd, dst + done, size_t(std::min<uint64_t>(nbytes - done, 1u << 30)), off_t(begin + done));
        check(n > 0, where, label, ": reading external data '", file.string(), "' failed at byte ", begin + done, ": ",
              n == 0 ? "unexpected end of file" : std::strerror(errno));
        done += uint64_t(n);
    }
}

// Copies typed-field values into `out`, each checked to fit the destination.
template <typename Dst, typename Field>
void copy_checked(const Field& values, Dst* dst, int64_t lo, int64_t hi, const std::string& label, const char* field,
                  const TensorContext& ctx, const char* type) {
    for (int i = 0; i < values.size(); ++i) {
        const int64_t v = int64_t(values.Get(i));
        check(v >= lo && v <= hi, ctx.where.c_str(), label, ": ", field, "[", i, "] = ", v, " is not a valid ", type,
              " value (", lo, "..", hi, ")");
        dst[i] = Dst(v);
    }
}

}  // namespace

std::string onnx_type_name(int data_type) {
    if (TensorProto::DataType_IsValid(data_type))
        return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(data_type));
    return cat_str("data_type ", data_type);
}

Tensor tensor_from_proto(const TensorProto& proto, const std::string& label, const TensorContext& ctx) {
    const char* where = ctx.where.c_str();
    const int type = proto.data_type();
    const std::string type_name = onnx_type_name(type);
    const std::optional<DType> dtype = graft_dtype(type);
    check(type != TensorProto::UNDEFINED, where, label, ": data_type is UNDEFINED");
    check(dtype.has_value(), where, label, ": ONNX type ", type_name, " has no Graft dtype (Graft reads FLOAT, DOUBLE, ",
          "FLOAT16, BFLOAT16, INT64, INT32, UINT8, BOOL)");
    check(!proto.has_segment(), where, label, ": segmented tensors (TensorProto.segment) are not supported");

    Shape shape;
    uint64_t numel = 1, nonzero = 1;
    bool overflow = false;
    for (int i = 0; i < proto.dims_size(); ++i) {
        const int64_t d = proto.dims(i);
        check(d >= 0, where, label, ": dims[", i, "] is ", d, ", negative");
        shape.push_back(d);
        overflow |= __builtin_mul_overflow(numel, uint64_t(d), &numel);
        if (d != 0) overflow |= __builtin_mul_overflow(nonzero, uint64_t(d), &nonzero);
    }
    const uint64_t itemsize = element_size(*dtype);
    uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(numel, itemsize, &nbytes);
    // Every stride is bounded by the product of the non-zero sizes: it must fit int64.
    overflow |= nonzero > uint64_t(std::numeric_limits<int64_t>::max()) || nbytes > uint64_t(std::numeric_limits<int64_t>::max());
    check(!overflow, where, label, ": shape ", shape_str(shape), " of ", type_name, " is too large (its size overflows)");

    // Exactly one data source (none is allowed only for an empty tensor).
    const bool external = proto.data_location() == TensorProto::EXTERNAL;
    const int typed_fields = (proto.float_data_size() > 0) + (proto.int32_data_size() > 0) +
                             (proto.int64_data_size() > 0) + (proto.double_data_size() > 0) +
                             (proto.uint64_data_size() > 0) + (proto.string_data_size() > 0);
    const int sources = int(external) + int(proto.has_raw_data()) + typed_fields;
    check(sources <= 1, where, label, ": holds its data in ", sources, " places at once (",
          external ? "external data, " : "", proto.has_raw_data() ? "raw_data, " : "", typed_fields,
          " typed field(s)); expected exactly one");
    if (!external) check(proto.external_data_size() == 0, where, label, ": has external_data entries but data_location is not EXTERNAL");

    if (external) {
        Tensor out;
        read_external(proto, label, ctx, nbytes, shape, *dtype, out);
        if (*dtype == DType::Bool) {
            const auto* b = static_cast<const unsigned char*>(out.raw_data());
            for (uint64_t i = 0; i < nbytes; ++i)
                check(b[i] <= 1, where, label, ": BOOL element ", i, " is byte ", int(b[i]), ", expected 0 or 1");
        }
        return out;
    }
    if (proto.has_raw_data()) {
        const std::string& raw = proto.raw_data();
        check(raw.size() == nbytes, where, label, ": raw_data holds ", raw.size(), " bytes, but shape ", shape_str(shape),
              " of ", type_name, " needs ", nbytes);
        if (*dtype == DType::Bool)
            for (size_t i = 0; i < raw.size(); ++i)
                check(static_cast<unsigned char>(raw[i]) <= 1, where, label, ": BOOL element ", i, " is byte ",
                      int(static_cast<unsigned char>(raw[i])), ", expected 0 or 1");
        if (ctx.owner && nbytes && reinterpret_cast<uintptr_t>(raw.data()) % itemsize == 0) {
            auto* keep = new std::shared_ptr<const void>(ctx.owner);
            auto release = [](void*, void* context) { delete static_cast<std::shared_ptr<const void>*>(context); };
            StoragePtr storage = Storage::wrap(const_cast<char*>(raw.data()), nbytes, Device::cpu(), release, keep);
            return Tensor::from_storage(std::move(storage), shape, contiguous_strides(shape), 0, *dtype);
        }
        Tensor out = Tensor::empty(shape, *dtype);
        if (nbytes) std::memcpy(out.raw_data(), raw.data(), nbytes);
        return out;
    }

    // Typed fields: which one a type uses is fixed by the spec (FORMATS.md 3b).
    const char* field = nullptr;
    int count = 0;
    switch (type) {
        case TensorProto::FLOAT: field = "float_data"; count = proto.float_data_size(); break;
        case TensorProto::DOUBLE: field = "double_data"; count = proto.double_data_size(); break;
        case TensorProto::INT64: field = "int64_data"; count = proto.int64_data_size(); break;
        default: field = "int32_data"; count = proto.int32_data_size(); break;  // INT32 UINT8 BOOL FLOAT16 BFLOAT16
    }
    check(typed_fields == 0 || count > 0, where, label, ": ", type_name, " data must be in ", field,
          " (or raw_data), but another typed field holds it");
    check(uint64_t(count) == numel, where, label, ": ", field, " holds ", count, " values, but shape ", shape_str(shape),
          " needs ", numel);

    Tensor out = Tensor::empty(shape, *dtype);
    if (numel == 0) return out;
    void* dst = out.raw_data();
    switch (type) {
        case TensorProto::FLOAT: std::memcpy(dst, proto.float_data().data(), nbytes); break;
        case TensorProto::DOUBLE: std::memcpy(dst, proto.double_data().data(), nbytes); break;
        case TensorProto::INT64: std::memcpy(dst, proto.int64_data().data(), nbytes); break;
        case TensorProto::INT32: std::memcpy(dst, proto.int32_data().data(), nbytes); break;
        case TensorProto::UINT8:
            copy_checked(proto.int32_data(), static_cast<uint8_t*>(dst), 0, 255, label, field, ctx, "UINT8");
            break;
        case TensorProto::BOOL:
            copy_checked(proto.int32_data(), static_cast<uint8_t*>(dst), 0, 1, label, field, ctx, "BOOL");
            break;
        default:  // FLOAT16 and BFLOAT16: the 16-bit pattern in an int32
            copy_checked(proto.int32_data(), static_cast<uint16_t*>(dst), 0, 65535, label, field, ctx, type_name.c_str());
            break;
    }
    return out;
}

}  // namespace graft::io::onnx_detail

#endif  // GRAFT_HAVE_ONNX
