#include "core/cpu_allocator.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace graft {

namespace {

constexpr size_t kAlignment = 64;         // one cache line; what AVX-512 loads like
constexpr size_t kSmallBuffer = 256;      // below: plain malloc (aligned_alloc's padding slows free)
constexpr size_t kCachedFrom = 64 << 10;  // below: not worth caching, malloc's bins serve it
constexpr size_t kCachedUpTo = 32 << 20;  // above: one-off buffers (a data set), given back at once

size_t size_class(size_t nbytes) {
    if (nbytes <= (size_t(1) << 20)) return (nbytes + kCachedFrom - 1) / kCachedFrom * kCachedFrom;
    size_t top = size_t(1) << 20;
    while (top < nbytes) top <<= 1;  // nbytes in (top/2, top]
    const size_t step = top / 16;    // 8 classes between top/2 and top
    return (nbytes + step - 1) / step * step;
}

size_t limit_from_env() {
    const char* env = std::getenv("GRAFT_CPU_CACHE_MB");
    if (!env || !*env) return size_t(256) << 20;
    return size_t(std::strtoull(env, nullptr, 10)) << 20;
}

struct Cache {
    std::mutex mutex;
    std::unordered_map<size_t, std::vector<void*>> free_blocks;  // size class -> blocks
    size_t bytes = 0;
    const size_t limit = limit_from_env();
};

Cache& cache() {
    static Cache* c = new Cache;  // never destroyed: Storages may be freed during static destruction
    return *c;
}

}  // namespace

void* cpu_allocate(size_t nbytes) {
    if (nbytes <= kSmallBuffer) return std::malloc(nbytes == 0 ? kAlignment : nbytes);
    if (nbytes < kCachedFrom || nbytes > kCachedUpTo)
        return std::aligned_alloc(kAlignment, (nbytes + kAlignment - 1) / kAlignment * kAlignment);
    const size_t cls = size_class(nbytes);
    Cache& c = cache();
    if (c.limit > 0) {
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.free_blocks.find(cls);
        if (it != c.free_blocks.end() && !it->second.empty()) {
            void* p = it->second.back();
            it->second.pop_back();
            c.bytes -= cls;
            return p;
        }
    }
    return std::aligned_alloc(kAlignment, cls);
}

void cpu_free(void* data, size_t nbytes) {
    if (!data) return;
    if (nbytes < kCachedFrom || nbytes > kCachedUpTo) return std::free(data);
    const size_t cls = size_class(nbytes);
    Cache& c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        if (c.bytes + cls <= c.limit) {
            c.free_blocks[cls].push_back(data);
            c.bytes += cls;
            return;
        }
    }
    std::free(data);
}

size_t cpu_cached_bytes() {
    std::lock_guard<std::mutex> lock(cache().mutex);
    return cache().bytes;
}

size_t cpu_cache_limit() { return cache().limit; }

void cpu_empty_cache() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    for (auto& [cls, blocks] : c.free_blocks)
        for (void* p : blocks) std::free(p);
    c.free_blocks.clear();
    c.bytes = 0;
}

}  // namespace graft
