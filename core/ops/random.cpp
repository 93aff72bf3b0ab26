// Placeholder until the random ops land: each throws.
#include "core/ops/random.h"

namespace graft {
Generator& default_generator() { static Generator g; return g; }
void manual_seed(uint64_t seed) { throw Error("manual_seed: not implemented yet"); }
void philox4x32(uint64_t seed, uint64_t counter, uint32_t out[4]) { throw Error("philox4x32: not implemented yet"); }
Tensor rand(const Shape& shape, DType dtype, Generator* gen) { throw Error("rand: not implemented yet"); }
Tensor randn(const Shape& shape, DType dtype, Generator* gen) { throw Error("randn: not implemented yet"); }
Tensor uniform(const Shape& shape, double low, double high, DType dtype, Generator* gen) { throw Error("uniform: not implemented yet"); }
Tensor normal(const Shape& shape, double mean, double std, DType dtype, Generator* gen) { throw Error("normal: not implemented yet"); }
Tensor bernoulli(const Tensor& p, Generator* gen) { throw Error("bernoulli: not implemented yet"); }
Tensor bernoulli(const Shape& shape, double p, DType dtype, Generator* gen) { throw Error("bernoulli: not implemented yet"); }
Tensor randperm(int64_t n, Generator* gen) { throw Error("randperm: not implemented yet"); }
const Tensor& uniform_(const Tensor& t, double low, double high, Generator* gen) { throw Error("uniform_: not implemented yet"); }
const Tensor& normal_(const Tensor& t, double mean, double std, Generator* gen) { throw Error("normal_: not implemented yet"); }

}  // namespace graft
