// core/cpu_allocator: large freed buffers are reused by the next request of the
// same size class, small and huge ones are not kept, alignment holds, and
// cpu_empty_cache gives everything back.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "core/cpu_allocator.h"
#include "core/ops/creation.h"
#include "core/tensor.h"

using namespace graft;

TEST_CASE("cpu_allocate reuses a freed large buffer of the same size class", "[allocator]") {
    if (cpu_cache_limit() == 0) return;  // GRAFT_CPU_CACHE_MB=0: caching off by request
    cpu_empty_cache();
    void* a = cpu_allocate(300000);
    REQUIRE(a != nullptr);
    REQUIRE(reinterpret_cast<uintptr_t>(a) % 64 == 0);
    std::memset(a, 1, 300000);
    cpu_free(a, 300000);
    REQUIRE(cpu_cached_bytes() >= 300000);
    void* b = cpu_allocate(290000);  // same 64 KiB class (320 KiB)
    REQUIRE(b == a);
    REQUIRE(cpu_cached_bytes() == 0);
    cpu_free(b, 290000);
    cpu_empty_cache();
    REQUIRE(cpu_cached_bytes() == 0);
}

TEST_CASE("cpu_allocate does not keep small or huge buffers", "[allocator]") {
    cpu_empty_cache();
    for (size_t n : {size_t(0), size_t(100), size_t(5000), size_t(40) << 20}) {
        void* p = cpu_allocate(n);
        REQUIRE(p != nullptr);
        if (n > 256) REQUIRE(reinterpret_cast<uintptr_t>(p) % 64 == 0);
        cpu_free(p, n);
        REQUIRE(cpu_cached_bytes() == 0);
    }
}

TEST_CASE("tensors go through the cache and keep their values", "[allocator]") {
    cpu_empty_cache();
    for (int i = 0; i < 3; ++i) {
        const Tensor t = full({256, 512}, Scalar(double(i)));
        REQUIRE(t.to_vector<float>()[1000] == float(i));
    }
    if (cpu_cache_limit() > 0) REQUIRE(cpu_cached_bytes() > 0);
    cpu_empty_cache();
}
