// Placeholder until the indexing ops land: each throws.
#include "core/ops/indexing.h"

namespace graft {
Tensor index_select(const Tensor& t, int64_t dim, const Tensor& index) { throw Error("index_select: not implemented yet"); }
Tensor gather(const Tensor& t, int64_t dim, const Tensor& index) { throw Error("gather: not implemented yet"); }
Tensor scatter_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) { throw Error("scatter_add: not implemented yet"); }
Tensor masked_fill(const Tensor& t, const Tensor& mask, Scalar value) { throw Error("masked_fill: not implemented yet"); }
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) { throw Error("where: not implemented yet"); }

}  // namespace graft
