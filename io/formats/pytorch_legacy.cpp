// The legacy stream of torch <= 1.5 (FORMATS.md 1b), also the bytes of a
// torch.storage._load_from_bytes call and, when the first pickle is not
// torch's magic number, a plain pickle.
#include <cstring>

#include "io/formats/pytorch_reader.h"

namespace graft::io::pytorch_detail {

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

}  // namespace graft::io::pytorch_detail
