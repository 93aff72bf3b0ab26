#include "core/storage.h"

#include <cstdlib>
#include <new>

#include "core/error.h"
#include "kernels/cuda/runtime.h"

namespace graft {

namespace {
constexpr size_t kCpuAlignment = 64;  // one cache line; also what AVX-512 loads like
constexpr size_t kSmallBuffer = 256;

void free_cpu(void* data, void*) { std::free(data); }
void free_cuda(void* data, void*) { kernels::cuda::device_free(data); }
}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
    void* data = nullptr;
    void (*release)(void*, void*) = nullptr;
    if (device.is_cpu()) {
        const size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
        // Tiny buffers (scalars, shapes of a few elements) come from plain malloc:
        // aligned_alloc's padding makes glibc's free several times slower, and a
        // 1-element op is all overhead. Kernels never assume alignment.
        data = rounded <= kSmallBuffer ? std::malloc(rounded == 0 ? kCpuAlignment : rounded)
                                       : std::aligned_alloc(kCpuAlignment, rounded);
        if (!data) throw Error(cat_str("Storage::allocate: out of memory allocating ", nbytes, " bytes on cpu"));
        release = free_cpu;
    } else {
        if (const char* err = kernels::cuda::device_alloc(&data, nbytes, device.index))
            throw Error(cat_str("Storage::allocate: cannot allocate ", nbytes, " bytes on ", device.str(), ": ", err));
        release = free_cuda;
    }
    return wrap(data, nbytes, device, release, nullptr);
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device,
                                       void (*release)(void*, void*), void* context) {
    std::shared_ptr<Storage> s(new Storage());
    s->data_ = data;
    s->nbytes_ = nbytes;
    s->device_ = device;
    s->release_ = release;
    s->context_ = context;
    return s;
}

Storage::~Storage() {
    if (release_) release_(data_, context_);
}

}  // namespace graft
