// XXH64 from the xxHash specification (doc/xxhash_spec.md in Cyan4973/xxHash):
// four 64-bit lanes over 32-byte stripes, then the tail in 8-, 4- and 1-byte
// steps, then the avalanche. Little-endian reads, as the spec defines them.
#include "transfer/tensor_hash.h"

#include <cstring>

#include "core/dtype.h"

namespace graft::transfer {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kP3 = 0x165667B19E3779F9ull;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ull;

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
// memcpy reads: unaligned-safe; the host is little-endian (as the formats assume).
uint64_t read64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
uint32_t read32(const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
uint64_t lane_round(uint64_t acc, uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; }
uint64_t merge(uint64_t acc, uint64_t lane) { return (acc ^ lane_round(0, lane)) * kP1 + kP4; }

}  // namespace

uint64_t xxh64(const void* data, size_t size, uint64_t seed) {
    const auto* p = static_cast<const unsigned char*>(data);
    const unsigned char* const end = p + size;
    uint64_t h;
    if (size >= 32) {
        uint64_t v1 = seed + kP1 + kP2, v2 = seed + kP2, v3 = seed, v4 = seed - kP1;
        for (const unsigned char* limit = end - 32; p <= limit; p += 32) {
            v1 = lane_round(v1, read64(p));
            v2 = lane_round(v2, read64(p + 8));
            v3 = lane_round(v3, read64(p + 16));
            v4 = lane_round(v4, read64(p + 24));
        }
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = merge(merge(merge(merge(h, v1), v2), v3), v4);
    } else {
        h = seed + kP5;
    }
    h += uint64_t(size);
    for (; p + 8 <= end; p += 8) h = rotl(h ^ lane_round(0, read64(p)), 27) * kP1 + kP4;
    if (p + 4 <= end) {
        h = rotl(h ^ (uint64_t(read32(p)) * kP1), 23) * kP2 + kP3;
        p += 4;
    }
    for (; p < end; ++p) h = rotl(h ^ (uint64_t(*p) * kP5), 11) * kP1;
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    h ^= h >> 32;
    return h;
}

uint64_t hash_values(const Tensor& tensor, uint64_t seed) {
    Tensor t = tensor.device().is_cpu() ? tensor.contiguous() : tensor.to(Device::cpu()).contiguous();
    return xxh64(t.raw_data(), size_t(t.numel()) * t.element_size(), seed);
}

uint64_t hash_tensors(const std::vector<Tensor>& tensors, uint64_t seed) {
    uint64_t h = xxh64("graft.tensors", seed);
    for (const Tensor& t : tensors) {
        check(t.defined(), "hash_tensors", "an undefined tensor in the list");
        std::string header = dtype_name(t.dtype());
        header += ':';
        header += std::to_string(t.dim());
        for (int64_t s : t.shape()) header += ',' + std::to_string(s);
        h = xxh64(header, h);
        h = hash_values(t, h);
    }
    return h;
}

std::string hash_hex(uint64_t hash) {
    static const char* digits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, hash >>= 4) out[size_t(i)] = digits[hash & 15];
    return out;
}

}  // namespace graft::transfer
