// read_pytorch (pytorch.h): container detection, the allowed globals and
// their native C++ stand-ins, storage resolution (zip records or the legacy
// stream's tail) and the state_dict pick.
#include "io/formats/pytorch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/tensor.h"
#include "io/formats/pickle.h"
#include "io/formats/zip_reader.h"

namespace graft::io {

namespace {

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

constexpr std::array<StorageType, 12> kStorageTypes{{
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
                      Parameter, Size, Storage, TensorType, LoadFromBytes, CodecsEncode };

const std::map<std::string, Callable>& allowed_globals() {
    static const std::map<std::string, Callable> table = [] {
        std::map<std::string, Callable> t{
            {"collections.OrderedDict", Callable::OrderedDict},
            {"torch._utils._rebuild_tensor_v2", Callable::RebuildTensorV2},
            {"torch._utils._rebuild_tensor", Callable::RebuildTensor},
            {"torch._utils._rebuild_parameter", Callable::RebuildParameter},
            {"torch._utils._rebuild_parameter_with_state", Callable::RebuildParameterWithState},
            {"torch.nn.parameter.Parameter", Callable::Parameter},
            {"torch.Size", Callable::Size},
            // pickle.dumps of a tensor: its storage as a nested legacy stream.
            {"torch.storage._load_from_bytes", Callable::LoadFromBytes},
            {"_codecs.encode", Callable::CodecsEncode},
        };
        for (const StorageType& s : kStorageTypes) {
            t.emplace(std::string("torch.") + s.name, Callable::Storage);
            // torch.FloatTensor, ...: named (never called) by the tar format's tensor records.
            std::string tensor = std::string("torch.") + s.name;
            tensor.replace(tensor.size() - 7, 7, "Tensor");
            t.emplace(tensor, Callable::TensorType);
        }
        return t;
    }();
    return table;
}

const StorageType* storage_type(const Value& v) {
    if (!v.is(Kind::Global) || v.module != "torch") return nullptr;
    for (const StorageType& s : kStorageTypes)
        if (v.name == s.name) return &s;
    return nullptr;
}

// How many times a view (with zero strides) may repeat its storage's elements.
constexpr uint64_t kMaxRepeat = 1024;

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

ValuePtr make_native(std::any payload) {
    auto v = std::make_shared<Value>(Kind::Native);
    v->native = std::move(payload);
    return v;
}

const TensorRef* as_tensor(const ValuePtr& v) {
    if (!v || !v->is(Kind::Native)) return nullptr;
    const auto* p = std::any_cast<std::shared_ptr<TensorRef>>(&v->native);
    return p ? p->get() : nullptr;
}

std::shared_ptr<StorageRef> as_storage(const ValuePtr& v) {
    if (!v || !v->is(Kind::Native)) return nullptr;
    const auto* p = std::any_cast<std::shared_ptr<StorageRef>>(&v->native);
    return p ? *p : nullptr;
}

// _codecs.encode(text, 'latin1'): each code point of the UTF-8 text, which
// must be below 256, as one byte.
std::string latin1_from_utf8(const std::string& text, const std::string& where) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const auto c = uint8_t(text[i]);
        if (c < 0x80) {
            out.push_back(char(c));
            i += 1;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < text.size() && (uint8_t(text[i + 1]) & 0xc0) == 0x80) {
            out.push_back(char(((c & 0x1f) << 6) | (uint8_t(text[i + 1]) & 0x3f)));
            i += 2;
        } else {
            throw Error(where + ": _codecs.encode(..., 'latin1') of text that is not latin-1");
        }
    }
    return out;
}

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

pickle::UnpickleHooks Reader::hooks() {
    pickle::UnpickleHooks h;
    h.find_global = [this](const std::string& module, const std::string& name) -> ValuePtr {
        const std::string full = module + "." + name;
        if (!allowed_globals().count(full))
            fail(cat_str("the pickle names the global ", full,
                         ", which is not allowed (only OrderedDict, torch's tensor/parameter rebuild functions, "
                         "torch.Size and torch storage types are; nothing was executed)"));
        auto v = std::make_shared<Value>(Kind::Global);
        v->module = module;
        v->name = name;
        return v;
    };
    h.reduce = [this](const ValuePtr& callable, const ValuePtr& args) { return reduce(callable, args); };
    h.persistent_load = [this](const ValuePtr& pid) { return persistent_load(pid); };
    h.build = [this](const ValuePtr& obj, const ValuePtr& state) {
        // torch.save gives an OrderedDict its `_metadata` attribute (per-module
        // versions) through BUILD; it carries no tensor data.
        if (obj->is(Kind::Dict) || as_tensor(obj)) return;
        fail(cat_str("BUILD (setting the state of a ", obj->describe(), " from a ", state->describe(),
                     ") is not supported"));
    };
    return h;
}

int64_t Reader::int_arg(const ValuePtr& v, const char* who, const char* what) const {
    if (!v->is(Kind::Int)) fail(cat_str(who, ": ", what, " is a ", v->describe(), ", expected an int"));
    return v->integer;
}

Shape Reader::int_tuple(const ValuePtr& v, const char* who, const char* what) const {
    if (!v->is(Kind::Tuple)) fail(cat_str(who, ": ", what, " is a ", v->describe(), ", expected a tuple of ints"));
    Shape out;
    for (const ValuePtr& item : v->items) out.push_back(int_arg(item, who, what));
    return out;
}

ValuePtr Reader::rebuild_tensor(const std::vector<ValuePtr>& a, const char* who) {
    auto storage = as_storage(a[0]);
    if (!storage) fail(cat_str(who, ": the first argument is a ", a[0]->describe(), ", expected a storage"));
    auto t = std::make_shared<TensorRef>();
    t->storage = std::move(storage);
    t->offset = int_arg(a[1], who, "storage_offset");
    t->sizes = int_tuple(a[2], who, "size");
    t->strides = int_tuple(a[3], who, "stride");
    if (t->sizes.size() != t->strides.size())
        fail(cat_str(who, ": size ", shape_str(t->sizes), " and stride ", shape_str(t->strides),
                     " have different lengths"));
    return make_native(std::move(t));
}

ValuePtr Reader::reduce(const ValuePtr& callable, const ValuePtr& args) {
    const std::string full = callable->module + "." + callable->name;
    const std::vector<ValuePtr>& a = args->items;
    auto need = [&](size_t lo, size_t hi) {
        if (a.size() < lo || a.size() > hi)
            fail(cat_str(full, " called with ", a.size(), " arguments, expected ", lo == hi ? "" : "between ", lo,
                         lo == hi ? "" : cat_str(" and ", hi)));
    };
    switch (allowed_globals().at(full)) {
        case Callable::OrderedDict:
            need(0, 0);
            return std::make_shared<Value>(Kind::Dict);
        case Callable::RebuildTensorV2:  // (storage, offset, size, stride, requires_grad, hooks[, metadata])
            need(6, 7);
            return rebuild_tensor(a, "_rebuild_tensor_v2");
        case Callable::RebuildTensor:  // (storage, offset, size, stride)
            need(4, 4);
            return rebuild_tensor(a, "_rebuild_tensor");
        case Callable::RebuildParameter:           // (data, requires_grad, hooks)
        case Callable::RebuildParameterWithState:  // (data, requires_grad, hooks, state)
        case Callable::Parameter:                  // (data[, requires_grad])
            need(1, 4);
            if (!as_tensor(a[0])) fail(cat_str(full, ": the data is a ", a[0]->describe(), ", expected a tensor"));
            return a[0];
        case Callable::Size:  // torch.Size((d0, d1, ...)) is a tuple
            need(1, 1);
            if (!a[0]->is(Kind::Tuple)) fail(cat_str("torch.Size of a ", a[0]->describe(), ", expected a tuple"));
            return a[0];
        case Callable::CodecsEncode: {  // protocol 2 spells bytes as _codecs.encode(str, 'latin1')
            need(2, 2);
            if (!a[0]->is(Kind::Str) || !a[1]->is(Kind::Str) || (a[1]->text != "latin1" && a[1]->text != "latin-1"))
                fail("_codecs.encode is only allowed as encode(str, 'latin1')");
            auto out = std::make_shared<Value>(Kind::Bytes);
            out->text = latin1_from_utf8(a[0]->text, where_);
            return out;
        }
        case Callable::LoadFromBytes: {  // a complete legacy stream holding one storage
            need(1, 1);
            if (!a[0]->is(Kind::Bytes)) fail(cat_str("_load_from_bytes of a ", a[0]->describe(), ", expected bytes"));
            if (depth_ >= 2) fail("_load_from_bytes nested inside _load_from_bytes");
            const std::string& bytes = a[0]->text;
            Reader inner(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), nullptr,
                         where_ + ": _load_from_bytes", options_);
            inner.depth_ = depth_ + 1;
            ValuePtr storage = inner.read_legacy();
            if (!as_storage(storage)) fail(cat_str("_load_from_bytes gave a ", storage->describe(), ", not a storage"));
            return storage;
        }
        case Callable::Storage:
        case Callable::TensorType: break;
    }
    fail(cat_str("calling ", full, " is not supported (storages come only from persistent ids)"));
}

ValuePtr Reader::persistent_load(const ValuePtr& pid) {
    if (tar_) {
        // The tar format's ids are plain keys into its tensor and storage tables.
        const std::string key = key_string(pid, "a persistent id");
        if (auto t = tar_tensors_.find(key); t != tar_tensors_.end()) return make_native(t->second);
        if (auto st = storages_.find(key); st != storages_.end()) return make_native(st->second);
        fail(cat_str("persistent id '", key, "' names no tensor or storage of the file"));
    }
    // zip: ('storage', type, key, location, numel); legacy adds view_metadata.
    const size_t expected = legacy_ ? 6 : 5;
    if (!pid->is(Kind::Tuple) || pid->items.empty() || !pid->items[0]->is(Kind::Str) ||
        pid->items[0]->text != "storage")
        fail(cat_str("a persistent id is a ", pid->describe(), ", expected a ('storage', ...) tuple"));
    const auto& p = pid->items;
    if (p.size() != expected)
        fail(cat_str("a storage persistent id has ", p.size(), " items, expected ", expected, " in the ",
                     legacy_ ? "legacy" : "zip", " format"));
    const StorageType* type = storage_type(*p[1]);
    if (!type) fail(cat_str("a storage persistent id names the type ", p[1]->describe(), ", not a torch storage type"));
    if (!p[2]->is(Kind::Str)) fail(cat_str("a storage key is a ", p[2]->describe(), ", expected a str"));
    if (!p[4]->is(Kind::Int) || p[4]->integer < 0)
        fail(cat_str("storage '", p[2]->text, "': the element count is not a non-negative int"));
    if (legacy_ && !p[5]->is(Kind::None))
        fail(cat_str("storage '", p[2]->text, "': legacy storage views (view_metadata) are not supported"));
    const uint64_t numel = uint64_t(p[4]->integer);
    auto [it, fresh] = storages_.try_emplace(p[2]->text);
    if (fresh) {
        it->second = std::make_shared<StorageRef>();
        it->second->key = p[2]->text;
        it->second->type = type;
        it->second->numel = numel;
    } else if (it->second->type != type || it->second->numel != numel) {
        fail(cat_str("storage '", p[2]->text, "' is declared twice with different types or sizes (", type->name, "[",
                     numel, "] vs ", it->second->type->name, "[", it->second->numel, "])"));
    }
    return make_native(it->second);
}

StoragePtr Reader::make_storage(const StorageRef& ref, const uint8_t* bytes, uint64_t nbytes, bool copy) {
    if (ref.type->dtype == DType::Bool)
        for (uint64_t i = 0; i < nbytes; ++i)
            if (bytes[i] > 1)
                fail(cat_str("storage '", ref.key, "': bool element ", i, " is byte ", int(bytes[i]),
                             ", expected 0 or 1"));
    const bool aligned = reinterpret_cast<uintptr_t>(bytes) % ref.type->element_size == 0;
    if (copy || options_.copy || !map_ || !aligned || nbytes == 0) {
        StoragePtr s = Storage::allocate(size_t(nbytes), Device::cpu());
        if (nbytes) std::memcpy(s->data(), bytes, size_t(nbytes));
        return s;
    }
    auto* keep = new std::shared_ptr<Mapping>(map_);
    auto release = [](void*, void* context) { delete static_cast<std::shared_ptr<Mapping>*>(context); };
    return Storage::wrap(const_cast<uint8_t*>(bytes), size_t(nbytes), Device::cpu(), release, keep);
}

// The byte count of a storage, or an error when it overflows.
uint64_t storage_bytes(const StorageRef& ref, const std::string& where) {
    uint64_t n = 0;
    check(!__builtin_mul_overflow(ref.numel, uint64_t(ref.type->element_size), &n), where.c_str(), "storage '",
          ref.key, "': ", ref.numel, " elements of ", ref.type->torch_dtype, " overflow 64 bits");
    return n;
}

ValuePtr Reader::read_zip() {
    metadata_["format"] = "pytorch-zip";
    zip::Index index(data_, size_, where_);
    if (index.entries().empty()) fail("the zip archive is empty");
    const std::string& first = index.entries().front().name;
    const size_t slash = first.find('/');
    if (slash == std::string::npos) fail(cat_str("the first zip entry '", first, "' is not inside a folder"));
    const std::string prefix = first.substr(0, slash + 1);
    for (const zip::Entry& e : index.entries())
        if (e.name == prefix + "constants.pkl" || e.name.rfind(prefix + "code/", 0) == 0)
            fail("this is a TorchScript archive (torch.jit.save), not a torch.save file; it is not supported");
    const zip::Entry* pkl = index.find(prefix + "data.pkl");
    if (!pkl) fail(cat_str("the zip has no '", prefix, "data.pkl' record: not a torch.save file"));
    if (const zip::Entry* order = index.find(prefix + "byteorder")) {
        const std::string text = index.read(*order);
        if (text == "big") fail("the file was written big-endian (byteorder 'big'); byte swapping is not supported");
        if (text != "little") fail(cat_str("unknown byteorder record '", text, "'"));
    }
    if (const zip::Entry* version = index.find(prefix + "version")) {
        std::string text = version->size <= 64 ? index.read(*version) : "";
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        metadata_["pytorch.version"] = text;
    }

    const std::string pickle_bytes = index.read(*pkl);
    ValuePtr top = pickle::unpickle(reinterpret_cast<const uint8_t*>(pickle_bytes.data()), pickle_bytes.size(),
                                    hooks(), where_ + ": " + pkl->name);

    for (auto& [key, ref] : storages_) {
        const std::string record = prefix + "data/" + key;
        const zip::Entry* e = index.find(record);
        if (!e) fail(cat_str("storage '", key, "': the record '", record, "' is missing"));
        const uint64_t nbytes = storage_bytes(*ref, where_);
        if (e->size != nbytes)
            fail(cat_str("storage '", key, "': the record '", record, "' holds ", e->size, " bytes but ", ref->numel,
                         " elements of ", ref->type->torch_dtype, " need ", nbytes));
        if (e->method == 0) {
            ref->storage = make_storage(*ref, index.stored_data(*e), nbytes);
        } else {
            const std::string bytes = index.read(*e);
            ref->storage = make_storage(*ref, reinterpret_cast<const uint8_t*>(bytes.data()), nbytes, true);
        }
    }
    return top;
}

ValuePtr Reader::read_legacy() {
    metadata_["format"] = "pytorch-legacy";
    legacy_ = true;
    const pickle::UnpickleHooks h = hooks();
    size_t pos = 0;
    auto next = [&](const char* what) {
        size_t used = 0;
        ValuePtr v = pickle::unpickle(data_ + pos, size_ - pos, h, cat_str(where_, ": ", what, " pickle"), &used);
        pos += used;
        return v;
    };
    static constexpr uint8_t kMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    ValuePtr magic = next("first");
    if (!magic->is(Kind::BigInt) || magic->text.size() != 10 || std::memcmp(magic->text.data(), kMagic, 10) != 0) {
        // A plain pickle (pickle.dumps of a state_dict) is the object itself.
        if (pos == size_ && depth_ == 0) {
            metadata_["format"] = "pickle";
            return magic;
        }
        fail("a pickle that does not start with torch's magic number: not a torch.save file");
    }
    ValuePtr protocol = next("protocol version");
    if (!protocol->is(Kind::Int) || protocol->integer != 1001)
        fail(cat_str("legacy protocol version ", protocol->is(Kind::Int) ? std::to_string(protocol->integer)
                                                                          : protocol->describe(),
                     " is not supported (expected 1001)"));
    ValuePtr sys_info = next("sys_info");
    if (!sys_info->is(Kind::Dict)) fail(cat_str("sys_info is a ", sys_info->describe(), ", expected a dict"));
    if (ValuePtr little = sys_info->get("little_endian"); little && !(little->is(Kind::Bool) && little->boolean))
        fail("the file was written on a big-endian machine; byte swapping is not supported");
    ValuePtr top = next("object");
    ValuePtr keys = next("storage keys");
    if (!keys->is(Kind::List)) fail(cat_str("the storage key list is a ", keys->describe(), ", expected a list"));

    std::unordered_map<std::string, bool> seen;
    for (const ValuePtr& k : keys->items) {
        if (!k->is(Kind::Str)) fail(cat_str("a storage key is a ", k->describe(), ", expected a str"));
        if (!seen.emplace(k->text, true).second) fail(cat_str("storage '", k->text, "' is listed twice"));
        auto it = storages_.find(k->text);
        if (it == storages_.end())
            fail(cat_str("storage '", k->text, "' is listed but no tensor uses it, so its type is unknown"));
        StorageRef& ref = *it->second;
        if (size_ - pos < 8) fail(cat_str("storage '", ref.key, "': the file ends before its element count"));
        uint64_t count = 0;
        std::memcpy(&count, data_ + pos, 8);
        pos += 8;
        if (count != ref.numel)
            fail(cat_str("storage '", ref.key, "': the data holds ", count, " elements, the pickle declares ",
                         ref.numel));
        const uint64_t nbytes = storage_bytes(ref, where_);
        if (nbytes > size_ - pos)
            fail(cat_str("storage '", ref.key, "': ", nbytes, " bytes at byte ", pos, " run past the end of the file (",
                         size_, " bytes)"));
        ref.storage = make_storage(ref, data_ + pos, nbytes);
        pos += size_t(nbytes);
    }
    for (const auto& [key, ref] : storages_)
        if (!ref->storage) fail(cat_str("storage '", key, "' is used by a tensor but missing from the key list"));
    if (pos != size_) fail(cat_str(size_ - pos, " trailing bytes after the last storage"));
    return top;
}

std::string Reader::key_string(const ValuePtr& v, const char* what) const {
    if (v->is(Kind::Int)) return std::to_string(v->integer);
    if (v->is(Kind::Str) || v->is(Kind::Bytes)) return v->text;
    fail(cat_str(what, " is a ", v->describe(), ", expected an int or str key"));
}

namespace tar {

struct Member {
    const uint8_t* data = nullptr;
    size_t size = 0;
};

uint64_t octal(const uint8_t* p, size_t n, bool& ok) {
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ') ++i;
    bool digits = false;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
        if (v >> 60) ok = false;
        v = v * 8 + uint64_t(p[i] - '0');
        digits = true;
    }
    for (; i < n; ++i)
        if (p[i] != ' ' && p[i] != '\0') ok = false;
    if (!digits) ok = false;
    return v;
}

}  // namespace tar

// The storages member: a pickled count; per storage a pickled (key, location,
// storage type), an int64 element count and the bytes; then a pickled list of
// views (target key, root key, element offset, element count).
void Reader::read_tar_storages(const uint8_t* data, size_t size) {
    const pickle::UnpickleHooks h = hooks();
    size_t pos = 0;
    auto next = [&](const char* what) {
        size_t used = 0;
        ValuePtr v = pickle::unpickle(data + pos, size - pos, h, cat_str(where_, ": tar member 'storages': ", what), &used);
        pos += used;
        return v;
    };
    ValuePtr count = next("the storage count");
    if (!count->is(Kind::Int) || count->integer < 0 || uint64_t(count->integer) > size / 8)
        fail("tar member 'storages': the storage count is not a plausible int");
    for (int64_t i = 0; i < count->integer; ++i) {
        ValuePtr rec = next("a storage record");
        if (!rec->is(Kind::Tuple) || rec->items.size() != 3)
            fail(cat_str("tar member 'storages': record ", i, " is a ", rec->describe(), ", expected (key, location, type)"));
        const std::string key = key_string(rec->items[0], "a storage key");
        const StorageType* type = storage_type(*rec->items[2]);
        if (!type) fail(cat_str("storage '", key, "': type ", rec->items[2]->describe(), " is not a torch storage type"));
        if (size - pos < 8) fail(cat_str("storage '", key, "': the member ends before its element count"));
        uint64_t numel = 0;
        std::memcpy(&numel, data + pos, 8);
        pos += 8;
        auto ref = std::make_shared<StorageRef>();
        ref->key = key;
        ref->type = type;
        ref->numel = numel;
        const uint64_t nbytes = storage_bytes(*ref, where_);
        if (nbytes > size - pos)
            fail(cat_str("storage '", key, "': ", nbytes, " bytes run past the end of tar member 'storages'"));
        ref->storage = make_storage(*ref, data + pos, nbytes);
        pos += size_t(nbytes);
        if (!storages_.emplace(key, ref).second) fail(cat_str("storage '", key, "' appears twice"));
    }
    ValuePtr views = next("the view list");
    if (!views->is(Kind::List)) fail(cat_str("tar member 'storages': the view list is a ", views->describe()));
    for (const ValuePtr& v : views->items) {
        if (!v->is(Kind::Tuple) || v->items.size() != 4)
            fail("tar member 'storages': a storage view is not a (target, root, offset, numel) tuple");
        const std::string target = key_string(v->items[0], "a view key");
        const std::string root_key = key_string(v->items[1], "a view's root key");
        auto root = storages_.find(root_key);
        if (root == storages_.end()) fail(cat_str("storage view '", target, "': no root storage '", root_key, "'"));
        const int64_t offset = int_arg(v->items[2], "a storage view", "offset");
        const int64_t numel = int_arg(v->items[3], "a storage view", "numel");
        const StorageRef& r = *root->second;
        if (offset < 0 || numel < 0 || uint64_t(offset) > r.numel || uint64_t(numel) > r.numel - uint64_t(offset))
            fail(cat_str("storage view '", target, "': elements [", offset, ", +", numel, ") lie outside storage '",
                         root_key, "' of ", r.numel));
        auto ref = std::make_shared<StorageRef>(StorageRef{target, r.type, uint64_t(numel), r.storage, r.base + offset});
        if (!storages_.emplace(target, ref).second) fail(cat_str("storage '", target, "' appears twice"));
    }
    if (pos != size) fail(cat_str("tar member 'storages': ", size - pos, " trailing bytes"));
}

// The tensors member: a pickled count; per tensor a pickled (key, storage key,
// tensor type), an int32 ndim and 4 pad bytes, ndim int64 sizes, ndim int64
// strides and an int64 storage offset.
void Reader::read_tar_tensors(const uint8_t* data, size_t size) {
    const pickle::UnpickleHooks h = hooks();
    size_t pos = 0;
    auto next = [&](const char* what) {
        size_t used = 0;
        ValuePtr v = pickle::unpickle(data + pos, size - pos, h, cat_str(where_, ": tar member 'tensors': ", what), &used);
        pos += used;
        return v;
    };
    auto int64_at = [&](const char* what) {
        if (size - pos < 8) fail(cat_str("tar member 'tensors' ends inside a tensor's ", what));
        int64_t v = 0;
        std::memcpy(&v, data + pos, 8);
        pos += 8;
        return v;
    };
    ValuePtr count = next("the tensor count");
    if (!count->is(Kind::Int) || count->integer < 0 || uint64_t(count->integer) > size / 8)
        fail("tar member 'tensors': the tensor count is not a plausible int");
    for (int64_t i = 0; i < count->integer; ++i) {
        ValuePtr rec = next("a tensor record");
        if (!rec->is(Kind::Tuple) || rec->items.size() != 3)
            fail(cat_str("tar member 'tensors': record ", i, " is a ", rec->describe(), ", expected (key, storage, type)"));
        const std::string key = key_string(rec->items[0], "a tensor key");
        const std::string storage_key = key_string(rec->items[1], "a tensor's storage key");
        auto storage = storages_.find(storage_key);
        if (storage == storages_.end()) fail(cat_str("tensor '", key, "': no storage '", storage_key, "'"));
        if (size - pos < 8) fail(cat_str("tensor '", key, "': tar member 'tensors' ends before its ndim"));
        int32_t ndim = 0;
        std::memcpy(&ndim, data + pos, 4);
        pos += 8;  // ndim and 4 pad bytes
        if (ndim < 0 || ndim > 64) fail(cat_str("tensor '", key, "': ndim ", ndim, " is not plausible"));
        auto t = std::make_shared<TensorRef>();
        t->storage = storage->second;
        for (int32_t d = 0; d < ndim; ++d) t->sizes.push_back(int64_at("sizes"));
        for (int32_t d = 0; d < ndim; ++d) t->strides.push_back(int64_at("strides"));
        t->offset = int64_at("storage offset");
        if (!tar_tensors_.emplace(key, std::move(t)).second) fail(cat_str("tensor '", key, "' appears twice"));
    }
    if (pos != size) fail(cat_str("tar member 'tensors': ", size - pos, " trailing bytes"));
}

// A POSIX tar of the members sys_info, pickle, storages and tensors. Headers
// are 512-byte blocks (name at 0, octal size at 124, checksum at 148, type at
// 156); data follows, padded to 512.
ValuePtr Reader::read_tar() {
    metadata_["format"] = "pytorch-tar";
    tar_ = true;
    std::map<std::string, tar::Member> members;
    size_t pos = 0;
    while (true) {
        if (size_ - pos < 512) fail(cat_str("tar: the file ends inside the header at byte ", pos));
        const uint8_t* hdr = data_ + pos;
        if (std::all_of(hdr, hdr + 512, [](uint8_t b) { return b == 0; })) break;
        uint64_t sum = 0;
        for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? uint64_t(' ') : hdr[i];
        bool ok = true;
        const uint64_t want = tar::octal(hdr + 148, 8, ok);
        const uint64_t size = tar::octal(hdr + 124, 12, ok);
        if (!ok || sum != want) fail(cat_str("tar: the header at byte ", pos, " is corrupt (bad checksum or size)"));
        const std::string name(reinterpret_cast<const char*>(hdr), strnlen(reinterpret_cast<const char*>(hdr), 100));
        const char type = char(hdr[156]);
        pos += 512;
        if (size > size_ - pos)
            fail(cat_str("tar member '", name, "': ", size, " bytes run past the end of the file (", size_, " bytes)"));
        if (type == 'x' || type == 'g') {
            const std::string pax(reinterpret_cast<const char*>(data_ + pos), size_t(size));
            if (pax.find(" size=") != std::string::npos || pax.find(" path=") != std::string::npos)
                fail("tar: PAX headers that override a member's size or name are not supported");
        } else if (type == '0' || type == '\0') {
            if (!members.emplace(name, tar::Member{data_ + pos, size_t(size)}).second)
                fail(cat_str("tar member '", name, "' appears twice"));
        }
        pos += size_t((size + 511) / 512 * 512 > size_ - pos ? size_ - pos : (size + 511) / 512 * 512);
    }
    for (const char* name : {"pickle", "storages", "tensors"})
        if (!members.count(name))
            fail(cat_str("a tar file without the member '", name, "': not a torch.save file of torch <= 0.3"));
    read_tar_storages(members["storages"].data, members["storages"].size);
    read_tar_tensors(members["tensors"].data, members["tensors"].size);
    const tar::Member& obj = members["pickle"];
    size_t used = 0;
    ValuePtr top = pickle::unpickle(obj.data, obj.size, hooks(), where_ + ": tar member 'pickle'", &used);
    return top;
}

Tensor Reader::materialize(const std::string& name, const TensorRef& t) {
    const StorageRef& ref = *t.storage;
    if (!ref.type->dtype)
        fail(cat_str("tensor '", name, "': torch.", ref.type->name, " (", ref.type->torch_dtype,
                     ") has no Graft dtype"));
    // Every element the view can reach must lie inside the storage.
    bool empty = false;
    for (size_t d = 0; d < t.sizes.size(); ++d) {
        if (t.sizes[d] < 0 || t.strides[d] < 0)
            fail(cat_str("tensor '", name, "': size ", shape_str(t.sizes), " / stride ", shape_str(t.strides),
                         " has a negative entry"));
        empty |= t.sizes[d] == 0;
    }
    if (t.offset < 0) fail(cat_str("tensor '", name, "': negative storage offset ", t.offset));
    uint64_t last = uint64_t(t.offset);
    bool overflow = false;
    for (size_t d = 0; d < t.sizes.size() && !empty; ++d) {
        uint64_t reach = 0;
        overflow |= __builtin_mul_overflow(uint64_t(t.sizes[d] - 1), uint64_t(t.strides[d]), &reach);
        overflow |= __builtin_add_overflow(last, reach, &last);
    }
    uint64_t numel = 1;
    for (int64_t s : t.sizes) overflow |= __builtin_mul_overflow(numel, uint64_t(s), &numel);
    overflow |= numel > uint64_t(std::numeric_limits<int64_t>::max());
    if (overflow || (empty ? last > ref.numel : last >= ref.numel))
        fail(cat_str("tensor '", name, "': size ", shape_str(t.sizes), ", stride ", shape_str(t.strides), " and offset ",
                     t.offset, " reach past its storage '", ref.key, "' of ", ref.numel, " elements"));
    // Zero strides let a view repeat its storage without bound (torch.expand);
    // past a generous factor that is a hostile file asking for huge copies.
    if (numel > std::max<uint64_t>(ref.numel, 1) * kMaxRepeat)
        fail(cat_str("tensor '", name, "': size ", shape_str(t.sizes), " with stride ", shape_str(t.strides),
                     " repeats its storage '", ref.key, "' of ", ref.numel, " elements more than ", kMaxRepeat,
                     " times; refused"));
    Tensor out = Tensor::from_storage(ref.storage, t.sizes, t.strides, t.offset + ref.base, *ref.type->dtype);
    if (options_.to_float32 && (out.dtype() == DType::Float16 || out.dtype() == DType::BFloat16 ||
                                out.dtype() == DType::Float64))
        out = out.to(DType::Float32);
    return out;
}

std::string join(const std::vector<std::string>& parts) {
    std::string s;
    for (const std::string& p : parts) s += (s.empty() ? "" : ",") + p;
    return s;
}

NamedTensors Reader::collect(const ValuePtr& top) {
    std::vector<std::pair<std::string, const TensorRef*>> found;
    std::vector<std::string> skipped;
    std::string key_used;
    if (top->is(Kind::List) || top->is(Kind::Tuple)) {
        if (options_.key && !options_.key->empty())
            fail(cat_str("key '", *options_.key, "' asked for, but the file holds a ", top->describe()));
        for (size_t i = 0; i < top->items.size(); ++i) {
            if (const TensorRef* t = as_tensor(top->items[i])) found.emplace_back(std::to_string(i), t);
            else skipped.push_back(std::to_string(i));
        }
    } else if (top->is(Kind::Dict)) {
        std::vector<std::string> top_keys;
        bool has_tensor = false;
        for (const auto& [k, v] : top->entries) {
            if (k->is(Kind::Str)) top_keys.push_back(k->text);
            has_tensor |= as_tensor(v) != nullptr;
        }
        metadata_["pytorch.top_level_keys"] = join(top_keys);
        const Value* dict = nullptr;
        if (options_.key) {
            key_used = *options_.key;
            if (key_used.empty()) {
                dict = top.get();
            } else {
                ValuePtr v = top->get(key_used);
                if (!v) fail(cat_str("no key '", key_used, "' at the top level (keys: ", join(top_keys), ")"));
                if (!v->is(Kind::Dict)) fail(cat_str("'", key_used, "' is a ", v->describe(), ", not a dict"));
                dict = v.get();
            }
        } else if (has_tensor || top->entries.empty()) {
            dict = top.get();
        } else {
            for (const char* candidate : {"state_dict", "model_state_dict", "model", "module", "net"})
                if (ValuePtr v = top->get(candidate); v && v->is(Kind::Dict)) {
                    dict = v.get();
                    key_used = candidate;
                    break;
                }
            if (!dict)
                fail(cat_str("no tensors at the top level and no state_dict / model_state_dict / model / module / "
                             "net dict (keys: ",
                             join(top_keys), "); name the key with PytorchReadOptions::key"));
        }
        for (const auto& [k, v] : dict->entries) {
            const std::string name = k->is(Kind::Str) ? k->text : "<" + k->describe() + " key>";
            if (const TensorRef* t = as_tensor(v); t && k->is(Kind::Str)) found.emplace_back(name, t);
            else skipped.push_back(name);
        }
    } else if (as_tensor(top)) {
        fail("the file holds a single tensor, not a state_dict");
    } else {
        fail(cat_str("the file holds a ", top->describe(), ", not a state_dict"));
    }

    NamedTensors out;
    for (const auto& [name, t] : found) out.set(name, materialize(name, *t));
    out.metadata = metadata_;
    out.metadata["pytorch.key"] = key_used;
    if (!skipped.empty()) out.metadata["pytorch.skipped"] = join(skipped);
    return out;
}

NamedTensors Reader::read() {
    check(size_ > 0, where_.c_str(), "the file is empty");
    ValuePtr top;
    if (size_ >= 4 && std::memcmp(data_, "PK\x03\x04", 4) == 0) {
        top = read_zip();
    } else if (size_ >= 262 && std::memcmp(data_ + 257, "ustar", 5) == 0) {
        top = read_tar();
    } else if (data_[0] == 0x80) {
        top = read_legacy();
    } else if (size_ >= 4 && std::memcmp(data_, "PK\x05\x06", 4) == 0) {
        fail("an empty zip archive, not a torch.save file");
    } else {
        fail("not a PyTorch file (neither a zip archive nor a legacy torch.save pickle stream)");
    }
    return collect(top);
}

struct FileCloser {
    int fd;
    ~FileCloser() { ::close(fd); }
};

}  // namespace

NamedTensors read_pytorch(const std::string& path, const PytorchReadOptions& options) {
    const std::string where = "read_pytorch: " + path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, where.c_str(), "cannot open the file: ", std::strerror(errno));
    FileCloser closer{fd};
    struct stat st {};
    check(::fstat(fd, &st) == 0, where.c_str(), "cannot stat the file: ", std::strerror(errno));
    check(S_ISREG(st.st_mode), where.c_str(), "not a regular file");
    const size_t size = size_t(st.st_size);
    check(size > 0, where.c_str(), "the file is empty");
    void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    check(addr != MAP_FAILED, where.c_str(), "cannot map the file: ", std::strerror(errno));
    auto map = std::make_shared<Mapping>(addr, size);
    Reader reader(static_cast<const uint8_t*>(addr), size, map, where, options);
    return reader.read();
}

NamedTensors read_pytorch_bytes(const std::string& bytes, const std::string& name, const PytorchReadOptions& options) {
    Reader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), nullptr, "read_pytorch: " + name,
                  options);
    return reader.read();
}

}  // namespace graft::io
