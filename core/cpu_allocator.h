// The CPU memory behind Storage::allocate. Large buffers (64 KiB and up) that a
// training step frees are kept and handed to the next request of the same size
// class instead of going back to the C library: glibc returns freed memory at
// the top of its heap to the kernel, and every step then faulted the same pages
// in again and had them zeroed (7-9% of an MLP epoch in perf). Small buffers go
// straight to malloc, and so do buffers over 32 MiB: those are one-off (a data
// set being converted), and keeping them would only raise the peak memory.
//
// Size classes: multiples of 64 KiB up to 1 MiB, then 8 per power of two (at
// most 12.5% unused). The cache holds at most cpu_cache_limit() bytes (default
// 256 MiB; GRAFT_CPU_CACHE_MB overrides, 0 turns caching off); beyond that freed
// buffers go back to the C library. Thread-safe (one mutex; allocations this
// large are rare next to the work done on them).
#pragma once

#include <cstddef>

namespace graft {

// 64-byte aligned memory for at least `nbytes` bytes (nullptr when out of memory).
void* cpu_allocate(size_t nbytes);
// Returns memory from cpu_allocate; `nbytes` must be the size it was asked for.
void cpu_free(void* data, size_t nbytes);

// Bytes held by the cache now, and its limit.
size_t cpu_cached_bytes();
size_t cpu_cache_limit();
// Gives every cached buffer back to the C library.
void cpu_empty_cache();

}  // namespace graft
