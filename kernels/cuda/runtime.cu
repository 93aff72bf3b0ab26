// The CUDA runtime interface of runtime.h, and Graft's first CUDA kernel
// (float32 elementwise add). The full CUDA backend (caching allocator, streams,
// the op set) is a later issue; this keeps the device path compiled and linked.
#include <cuda_runtime.h>

#include "kernels/cuda/runtime.h"

namespace graft::kernels::cuda {

namespace {
const char* status(cudaError_t err) { return err == cudaSuccess ? nullptr : cudaGetErrorString(err); }

__global__ void add_f32_kernel(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                               float* __restrict__ out) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        out[i] = a[i] + b[i];
}
}  // namespace

bool built_with_cuda() { return true; }

int device_count() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no device" error
        return 0;
    }
    return count;
}

const char* device_alloc(void** out, size_t nbytes, int device) {
    *out = nullptr;
    if (const char* err = status(cudaSetDevice(device))) return err;
    return status(cudaMalloc(out, nbytes == 0 ? 1 : nbytes));
}

void device_free(void* data) { cudaFree(data); }

const char* copy(void* dst, const void* src, size_t nbytes, CopyKind kind) {
    const cudaMemcpyKind k = kind == CopyKind::HostToDevice   ? cudaMemcpyHostToDevice
                             : kind == CopyKind::DeviceToHost ? cudaMemcpyDeviceToHost
                                                              : cudaMemcpyDeviceToDevice;
    return status(cudaMemcpy(dst, src, nbytes, k));
}

const char* synchronize() { return status(cudaDeviceSynchronize()); }

const char* add_f32(int64_t n, const float* a, const float* b, float* out) {
    if (n == 0) return nullptr;
    const int threads = 256;
    const int64_t blocks = (n + threads - 1) / threads;
    add_f32_kernel<<<unsigned(blocks < 65535 ? blocks : 65535), threads>>>(n, a, b, out);
    return status(cudaGetLastError());
}

}  // namespace graft::kernels::cuda
