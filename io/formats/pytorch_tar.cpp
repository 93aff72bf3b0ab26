// The tar container of torch <= 0.3 (FORMATS.md 1c).
#include <algorithm>
#include <cstring>

#include "io/formats/pytorch_reader.h"

namespace graft::io::pytorch_detail {

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

}  // namespace graft::io::pytorch_detail
