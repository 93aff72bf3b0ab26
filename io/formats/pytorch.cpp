// read_pytorch (pytorch.h): container detection, storages -> graft Storages
// (mapped or copied), views -> tensors with their bounds checked, and the
// state_dict pick. The rest lives beside it (pytorch_reader.h lists the files).
#include "io/formats/pytorch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

#include "io/formats/pytorch_reader.h"

namespace graft::io {

namespace pytorch_detail {

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

// "a,b,c"; past `limit` parts, ",... (N in all)".
std::string join(const std::vector<std::string>& parts, size_t limit = SIZE_MAX) {
    std::string s;
    for (size_t i = 0; i < parts.size() && i < limit; ++i) s += (i ? "," : "") + parts[i];
    if (parts.size() > limit) s += cat_str(",... (", parts.size(), " in all)");
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
        const Value* dict = nullptr;
        if (options_.key) {
            key_used = *options_.key;
            if (key_used.empty()) {
                dict = top.get();
            } else {
                ValuePtr v = top->get(key_used);
                if (!v) fail(cat_str("no key '", key_used, "' at the top level (keys: ", join(top_keys, 20), ")"));
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
                             join(top_keys, 20), "); name the key with PytorchReadOptions::key"));
        }
        // A checkpoint: say what else it held.
        if (dict != top.get()) metadata_["pytorch.top_level_keys"] = join(top_keys);
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

}  // namespace pytorch_detail

namespace {

struct FileCloser {
    int fd;
    ~FileCloser() { ::close(fd); }
};

}  // namespace

using pytorch_detail::Mapping;
using pytorch_detail::Reader;

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
