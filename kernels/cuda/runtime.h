// The slice of the CUDA runtime that Graft's core uses, behind a plain C++
// interface so that only kernels/cuda/*.cu include CUDA headers. Built from
// runtime.cu with GRAFT_CUDA=ON, or from runtime_absent.cpp otherwise.
// Functions that can fail return nullptr on success and an error text otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace graft::kernels::cuda {

bool built_with_cuda();
int device_count();  // 0 when no GPU answers
const char* device_alloc(void** out, size_t nbytes, int device);
void device_free(void* data);
enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };
const char* copy(void* dst, const void* src, size_t nbytes, CopyKind kind);
const char* synchronize();

// out[i] = a[i] + b[i] for i < n, float32, contiguous device pointers.
const char* add_f32(int64_t n, const float* a, const float* b, float* out);

}  // namespace graft::kernels::cuda
