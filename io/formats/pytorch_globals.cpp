// The allowed globals of read_pytorch and what REDUCE, NEWOBJ, BUILD and
// BINPERSID build from them (pytorch_reader.h): plain C++ values, nothing run.
#include <cstring>

#include "io/formats/pytorch_reader.h"

namespace graft::io::pytorch_detail {

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
            {"torch.device", Callable::Device},
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
        case Callable::Device: {  // torch.device('cuda', 0): kept as the text "cuda:0"
            need(1, 2);
            if (!a[0]->is(Kind::Str) || (a.size() == 2 && !a[1]->is(Kind::Int)))
                fail("torch.device is only allowed as device(str[, int])");
            return pickle::make_str(a.size() == 2 ? cat_str(a[0]->text, ":", a[1]->integer) : a[0]->text);
        }
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

std::string Reader::key_string(const ValuePtr& v, const char* what) const {
    if (v->is(Kind::Int)) return std::to_string(v->integer);
    if (v->is(Kind::Str) || v->is(Kind::Bytes)) return v->text;
    fail(cat_str(what, " is a ", v->describe(), ", expected an int or str key"));
}

}  // namespace graft::io::pytorch_detail
