// Placeholder until the join ops land: each throws.
#include "core/ops/join.h"

namespace graft {
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) { throw Error("cat: not implemented yet"); }
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) { throw Error("stack: not implemented yet"); }
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim) { throw Error("split: not implemented yet"); }
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim) { throw Error("chunk: not implemented yet"); }

}  // namespace graft
