// The zip container of torch >= 1.6 (FORMATS.md 1a): data.pkl, then one
// stored record per storage, viewed in place in the memory map.
#include <string>

#include "io/formats/pytorch_reader.h"
#include "io/formats/zip_reader.h"

namespace graft::io::pytorch_detail {

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

}  // namespace graft::io::pytorch_detail
