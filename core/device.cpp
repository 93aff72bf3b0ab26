#include "core/device.h"

#include "kernels/cuda/runtime.h"

namespace graft {

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

bool cuda_available() { return cuda_device_count() > 0; }

int cuda_device_count() {
    static const int count = kernels::cuda::device_count();
    return count;
}

std::string cuda_unavailable_reason() {
    if (!kernels::cuda::built_with_cuda()) return "Graft was built without CUDA (configure with -DGRAFT_CUDA=ON)";
    if (cuda_device_count() == 0) return "Graft was built with CUDA, but no CUDA device answers on this machine";
    return "";
}

}  // namespace graft
