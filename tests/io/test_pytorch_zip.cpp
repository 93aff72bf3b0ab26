// The zip layer under read_pytorch (io/formats/zip_reader.h): archives built
// here byte by byte (ZIP64 extra fields as writers of > 4 GB checkpoints use
// them, duplicate names, encryption, entries past the end) and torch's own
// files repacked deflated by Python (inflated and CRC-checked, then copied).
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

#include "graft.h"
#include "io/formats/pytorch.h"
#include "io/formats/zip_reader.h"

using namespace graft;
using Catch::Matchers::Contains;

namespace {

const std::string kDir = std::string(GRAFT_FIXTURES_DIR) + "/pytorch/";

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void put(std::string& out, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

struct ZipItem {
    std::string name, data;
    uint16_t flags = 0;
};

// A stored-only zip. With zip64 every 32-bit size and offset in the central
// directory is 0xffffffff and the real values sit in a ZIP64 extra field, and
// the archive ends with ZIP64 end records.
std::string build_zip(const std::vector<ZipItem>& items, bool zip64) {
    std::string out, central;
    for (const ZipItem& it : items) {
        const uint64_t offset = out.size();
        put(out, 0x04034b50, 4);
        put(out, 20, 2);
        put(out, it.flags, 2);
        put(out, 0, 2);  // stored
        put(out, 0, 4);  // time, date
        put(out, 0, 4);  // crc (not checked for stored entries)
        put(out, it.data.size(), 4);
        put(out, it.data.size(), 4);
        put(out, it.name.size(), 2);
        put(out, 0, 2);
        out += it.name + it.data;

        put(central, 0x02014b50, 4);
        put(central, 45, 2);
        put(central, 45, 2);
        put(central, it.flags, 2);
        put(central, 0, 2);
        put(central, 0, 4);
        put(central, 0, 4);
        put(central, zip64 ? 0xffffffffu : it.data.size(), 4);
        put(central, zip64 ? 0xffffffffu : it.data.size(), 4);
        put(central, it.name.size(), 2);
        put(central, zip64 ? 28 : 0, 2);
        put(central, 0, 2);  // comment
        put(central, 0, 2);  // disk
        put(central, 0, 2);
        put(central, 0, 4);
        put(central, zip64 ? 0xffffffffu : offset, 4);
        central += it.name;
        if (zip64) {
            put(central, 1, 2);
            put(central, 24, 2);
            put(central, it.data.size(), 8);
            put(central, it.data.size(), 8);
            put(central, offset, 8);
        }
    }
    const uint64_t cd_offset = out.size();
    out += central;
    if (zip64) {
        const uint64_t end64 = out.size();
        put(out, 0x06064b50, 4);
        put(out, 44, 8);
        put(out, 45, 2);
        put(out, 45, 2);
        put(out, 0, 4);
        put(out, 0, 4);
        put(out, items.size(), 8);
        put(out, items.size(), 8);
        put(out, central.size(), 8);
        put(out, cd_offset, 8);
        put(out, 0x07064b50, 4);
        put(out, 0, 4);
        put(out, end64, 8);
        put(out, 1, 4);
    }
    put(out, 0x06054b50, 4);
    put(out, 0, 4);
    put(out, zip64 ? 0xffff : items.size(), 2);
    put(out, zip64 ? 0xffff : items.size(), 2);
    put(out, zip64 ? 0xffffffffu : central.size(), 4);
    put(out, zip64 ? 0xffffffffu : cd_offset, 4);
    put(out, 0, 2);
    return out;
}

// The records of a torch zip file, read back through io::zip::Index.
std::vector<ZipItem> records_of(const std::string& bytes) {
    io::zip::Index index(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "src");
    std::vector<ZipItem> items;
    for (const auto& e : index.entries()) items.push_back({e.name, index.read(e)});
    return items;
}

void require_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
    try {
        fn();
        FAIL("no error");
    } catch (const Error& e) {
        for (const std::string& p : parts) CHECK_THAT(e.what(), Contains(p));
    }
}

}  // namespace

TEST_CASE("zip: torch records rebuilt plain and with ZIP64 extra fields load the same", "[io][pytorch][zip]") {
    const NamedTensors reference = io::read_pytorch(kDir + "t1_sd_zip.pt");
    const auto items = records_of(slurp(kDir + "t1_sd_zip.pt"));
    for (bool zip64 : {false, true}) {
        INFO("zip64=" << zip64);
        const NamedTensors sd = io::read_pytorch_bytes(build_zip(items, zip64), "rebuilt.pt");
        REQUIRE(sd.names() == reference.names());
        for (const auto& [name, t] : reference) CHECK(sd.at(name).to_vector<double>() == t.to_vector<double>());
        // Views of one storage still share it.
        CHECK(sd.at("shared_row").storage() == sd.at("shared_block").storage());
    }
}

TEST_CASE("zip: deflated entries are inflated and CRC-checked", "[io][pytorch][zip]") {
    const NamedTensors reference = io::read_pytorch(kDir + "t1_sd_zip.pt");
    const NamedTensors sd = io::read_pytorch(kDir + "sd_deflated.pt");
    REQUIRE(sd.names() == reference.names());
    for (const auto& [name, t] : reference) CHECK(sd.at(name).to_vector<double>() == t.to_vector<double>());
    CHECK(sd.at("shared_row").storage() == sd.at("shared_block").storage());

    // A flipped byte inside the compressed data of the first storage.
    std::string bytes = slurp(kDir + "sd_deflated.pt");
    io::zip::Index index(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x");
    const io::zip::Entry* e = index.find("t1_sd_zip/data/0");
    REQUIRE(e != nullptr);
    REQUIRE(e->method == 8);
    bytes[size_t(e->data_offset + e->compressed_size / 2)] ^= 0x55;
    require_error([&] { io::read_pytorch_bytes(bytes, "flip.pt"); }, {"flip.pt", "t1_sd_zip/data/0"});
}

TEST_CASE("zip: malformed archives are refused naming the entry", "[io][pytorch][zip]") {
    const auto items = records_of(slurp(kDir + "t1_sd_zip.pt"));

    auto dup = items;
    dup.push_back(items[1]);
    require_error([&] { io::read_pytorch_bytes(build_zip(dup, false), "dup.pt"); }, {"dup.pt", "appears twice"});

    auto enc = items;
    enc[1].flags = 1;
    require_error([&] { io::read_pytorch_bytes(build_zip(enc, false), "enc.pt"); }, {"enc.pt", "encrypted"});

    auto abs = items;
    abs[1].name = "/etc/passwd";
    require_error([&] { io::read_pytorch_bytes(build_zip(abs, true), "abs.pt"); }, {"abs.pt", "unsafe name"});

    auto flat = items;
    for (auto& it : flat) it.name = it.name.substr(it.name.find('/') + 1);
    require_error([&] { io::read_pytorch_bytes(build_zip(flat, false), "flat.pt"); }, {"flat.pt", "not inside a folder"});

    auto nopkl = items;
    nopkl.erase(nopkl.begin());
    require_error([&] { io::read_pytorch_bytes(build_zip(nopkl, false), "nopkl.pt"); }, {"nopkl.pt", "data.pkl"});

    auto big = items;
    big.push_back({"t1_sd_zip/byteorder", "big"});
    require_error([&] { io::read_pytorch_bytes(build_zip(big, true), "big.pt"); }, {"big.pt", "big-endian"});

    // A central directory entry whose size runs past the end of the file.
    std::string past = build_zip(items, true);
    const std::string name = items.back().name;
    const size_t at = past.rfind(name);  // the central directory copy of the last name
    REQUIRE(at != std::string::npos);
    for (int i = 0; i < 8; ++i) past[at + name.size() + 4 + 8 + i] = char(i == 7 ? 0x7f : 0xff);  // compressed size
    for (int i = 0; i < 8; ++i) past[at + name.size() + 4 + i] = char(i == 7 ? 0x7f : 0xff);      // size
    require_error([&] { io::read_pytorch_bytes(past, "past.pt"); }, {"past.pt", name, "past the end of the file"});

    // An end record that declares more entries than the directory can hold.
    std::string many = build_zip(items, false);
    many[many.size() - 22 + 10] = char(0xff);
    many[many.size() - 22 + 8] = char(0xff);
    require_error([&] { io::read_pytorch_bytes(many, "many.pt"); }, {"many.pt", "entries"});
}
