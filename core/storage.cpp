#include "core/storage.h"

#include <cstdint>
#include <cstdlib>
#include <new>

#include "core/cpu_allocator.h"
#include "core/error.h"
#include "kernels/cuda/runtime.h"

namespace graft {

namespace {
// CPU memory comes from core/cpu_allocator (which keeps large freed buffers for
// reuse); the context of a CPU storage carries its requested size back to it.
void free_cpu(void* data, void* context) { cpu_free(data, size_t(reinterpret_cast<uintptr_t>(context))); }
void free_cuda(void* data, void*) { kernels::cuda::device_free(data); }
}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
    void* data = nullptr;
    if (device.is_cpu()) {
        data = cpu_allocate(nbytes);
        if (!data) throw Error(cat_str("Storage::allocate: out of memory allocating ", nbytes, " bytes on cpu"));
        return wrap(data, nbytes, device, free_cpu, reinterpret_cast<void*>(uintptr_t(nbytes)));
    }
    if (const char* err = kernels::cuda::device_alloc(&data, nbytes, device.index))
        throw Error(cat_str("Storage::allocate: cannot allocate ", nbytes, " bytes on ", device.str(), ": ", err));
    return wrap(data, nbytes, device, free_cuda, nullptr);
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
