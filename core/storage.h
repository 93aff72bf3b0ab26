// Storage: a dumb device buffer (pointer, byte count, device) shared by a tensor
// and all its views. It also carries the version counter that autograd uses to
// detect in-place changes to saved tensors: views share storage, so they share it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace graft {

class Storage {
public:
    // Allocates nbytes on `device`, uninitialised (on the CPU 64-byte aligned
    // above 256 bytes, 16-byte aligned below).
    static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
    // Wraps memory owned elsewhere; `release` is called when the storage dies
    // (pass nullptr for memory that outlives every tensor, e.g. a memory map
    // kept alive by the caller).
    static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, Device device,
                                         void (*release)(void* data, void* context),
                                         void* context);

    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    ~Storage();

    void* data() const { return data_; }
    size_t nbytes() const { return nbytes_; }
    Device device() const { return device_; }

    uint64_t version() const { return version_.load(std::memory_order_relaxed); }
    void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

private:
    Storage() = default;
    void* data_ = nullptr;
    size_t nbytes_ = 0;
    Device device_;
    void (*release_)(void*, void*) = nullptr;
    void* context_ = nullptr;
    std::atomic<uint64_t> version_{0};
};

using StoragePtr = std::shared_ptr<Storage>;

}  // namespace graft
