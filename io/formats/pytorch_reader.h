// The internals of read_pytorch (pytorch.h), shared by its source files:
//   pytorch.cpp          entry points, container detection, storages -> tensors,
//                        the state_dict pick
//   pytorch_globals.cpp  the allowed globals and the native values REDUCE and
//                        BINPERSID build (the pickle VM's hooks)
//   pytorch_zip.cpp, pytorch_legacy.cpp, pytorch_tar.cpp   the three containers
// Not a public header: nothing outside io/formats/pytorch*.cpp includes it.
#pragma once

#include <sys/mman.h>

#include <any>
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/named_tensors.h"
#include "core/tensor.h"
#include "io/formats/pickle.h"
#include "io/formats/pytorch.h"

namespace graft::io::pytorch_detail {

static_assert(std::endian::native == std::endian::little, "torch.save data is little-endian; big-endian hosts are not supported");

using pickle::Value;
using pickle::ValuePtr;
using Kind = Value::Kind;

struct StorageType {
    const char* name;  // torch.<name>
    std::optional<DType> dtype;
    size_t element_size;
    const char* torch_dtype;
};

inline constexpr std::array<StorageType, 12> kStorageTypes{{
    {"FloatStorage", DType::Float32, 4, "float32"},
    {"DoubleStorage", DType::Float64, 8, "float64"},
    {"HalfStorage", DType::Float16, 2, "float16"},
    {"BFloat16Storage", DType::BFloat16, 2, "bfloat16"},
    {"LongStorage", DType::Int64, 8, "int64"},
    {"IntStorage", DType::Int32, 4, "int32"},
    {"ShortStorage", std::nullopt, 2, "int16"},
    {"CharStorage", std::nullopt, 1, "int8"},
    {"ByteStorage", DType::UInt8, 1, "uint8"},
    {"BoolStorage", DType::Bool, 1, "bool"},
    {"ComplexFloatStorage", std::nullopt, 8, "complex64"},
    {"ComplexDoubleStorage", std::nullopt, 16, "complex128"},
}};

// The callables a pickle may name; everything else is refused.
enum class Callable { OrderedDict, RebuildTensorV2, RebuildTensor, RebuildParameter, RebuildParameterWithState,
                      Parameter, Size, Device, Storage, TensorType, LoadFromBytes, CodecsEncode };

const std::map<std::string, Callable>& allowed_globals();

// The storage type a Global value names (torch.FloatStorage, ...), or null.
const StorageType* storage_type(const Value& v);

// How many times a view (with zero strides) may repeat its storage's elements.
inline constexpr uint64_t kMaxRepeat = 1024;

// A storage named by a persistent id; its bytes are found after the pickle.
struct StorageRef {
    std::string key;
    const StorageType* type = nullptr;
    uint64_t numel = 0;
    StoragePtr storage;  // filled when resolved
    int64_t base = 0;    // element offset inside `storage` (tar storage views)
};

struct TensorRef {
    std::shared_ptr<StorageRef> storage;
    int64_t offset = 0;
    Shape sizes;
    Strides strides;
};

ValuePtr make_native(std::any payload);
const TensorRef* as_tensor(const ValuePtr& v);
std::shared_ptr<StorageRef> as_storage(const ValuePtr& v);

// _codecs.encode(text, 'latin1'): each code point of the UTF-8 text, which
// must be below 256, as one byte.
std::string latin1_from_utf8(const std::string& text, const std::string& where);

// The byte count of a storage, or an error when it overflows.
uint64_t storage_bytes(const StorageRef& ref, const std::string& where);

// The memory behind the tensors: a private map of the file, or nothing (bytes
// given by the caller are always copied).
struct Mapping {
    void* addr = nullptr;
    size_t size = 0;
    Mapping(void* a, size_t s) : addr(a), size(s) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
        if (addr) ::munmap(addr, size);
    }
};

class Reader {
public:
    Reader(const uint8_t* data, size_t size, std::shared_ptr<Mapping> map, std::string where,
           const PytorchReadOptions& options)
        : data_(data), size_(size), map_(std::move(map)), where_(std::move(where)), options_(options) {}

    NamedTensors read();

private:
    const uint8_t* data_;
    size_t size_;
    std::shared_ptr<Mapping> map_;
    std::string where_;
    const PytorchReadOptions& options_;
    bool legacy_ = false;
    bool tar_ = false;
    int depth_ = 0;  // _load_from_bytes nesting
    std::unordered_map<std::string, std::shared_ptr<TensorRef>> tar_tensors_;
    std::unordered_map<std::string, std::shared_ptr<StorageRef>> storages_;
    std::map<std::string, std::string> metadata_;

    [[noreturn]] void fail(const std::string& message) const { throw Error(where_ + ": " + message); }

    pickle::UnpickleHooks hooks();
    ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args);
    ValuePtr persistent_load(const ValuePtr& pid);
    ValuePtr rebuild_tensor(const std::vector<ValuePtr>& args, const char* who);
    int64_t int_arg(const ValuePtr& v, const char* who, const char* what) const;
    Shape int_tuple(const ValuePtr& v, const char* who, const char* what) const;

    ValuePtr read_zip();
    ValuePtr read_legacy();
    ValuePtr read_tar();
    void read_tar_storages(const uint8_t* data, size_t size);
    void read_tar_tensors(const uint8_t* data, size_t size);
    std::string key_string(const ValuePtr& v, const char* what) const;
    StoragePtr make_storage(const StorageRef& ref, const uint8_t* bytes, uint64_t nbytes, bool copy = false);
    NamedTensors collect(const ValuePtr& top);
    Tensor materialize(const std::string& name, const TensorRef& t);
};

}  // namespace graft::io::pytorch_detail
