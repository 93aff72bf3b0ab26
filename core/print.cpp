// Placeholder until printing lands.
#include "core/tensor.h"

namespace graft {
std::string Tensor::str() const { return "tensor(" + describe(*this) + ")"; }
}  // namespace graft
