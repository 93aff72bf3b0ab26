// The CUDA runtime interface for builds without GRAFT_CUDA: no devices, and
// every operation reports why.
#include "kernels/cuda/runtime.h"

namespace graft::kernels::cuda {

namespace {
constexpr const char* kNotBuilt = "Graft was built without CUDA (configure with -DGRAFT_CUDA=ON)";
}

bool built_with_cuda() { return false; }
int device_count() { return 0; }
const char* device_alloc(void** out, size_t, int) { *out = nullptr; return kNotBuilt; }
void device_free(void*) {}
const char* copy(void*, const void*, size_t, CopyKind) { return kNotBuilt; }
const char* synchronize() { return kNotBuilt; }
const char* add_f32(int64_t, const float*, const float*, float*) { return kNotBuilt; }

}  // namespace graft::kernels::cuda
