// Placeholder until the matmul ops land: each throws.
#include "core/ops/matmul.h"

namespace graft {
Tensor matmul(const Tensor& a, const Tensor& b) { throw Error("matmul: not implemented yet"); }

}  // namespace graft
