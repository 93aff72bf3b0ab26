// Placeholder until the unary ops land: each throws.
#include "core/ops/unary.h"

namespace graft {
Tensor neg(const Tensor& t) { throw Error("neg: not implemented yet"); }
Tensor exp(const Tensor& t) { throw Error("exp: not implemented yet"); }
Tensor log(const Tensor& t) { throw Error("log: not implemented yet"); }
Tensor log1p(const Tensor& t) { throw Error("log1p: not implemented yet"); }
Tensor sqrt(const Tensor& t) { throw Error("sqrt: not implemented yet"); }
Tensor rsqrt(const Tensor& t) { throw Error("rsqrt: not implemented yet"); }
Tensor abs(const Tensor& t) { throw Error("abs: not implemented yet"); }
Tensor sign(const Tensor& t) { throw Error("sign: not implemented yet"); }
Tensor clamp(const Tensor& t, std::optional<double> min, std::optional<double> max) { throw Error("clamp: not implemented yet"); }
const Tensor& neg_(const Tensor& t) { throw Error("neg_: not implemented yet"); }
const Tensor& exp_(const Tensor& t) { throw Error("exp_: not implemented yet"); }
const Tensor& log_(const Tensor& t) { throw Error("log_: not implemented yet"); }
const Tensor& log1p_(const Tensor& t) { throw Error("log1p_: not implemented yet"); }
const Tensor& sqrt_(const Tensor& t) { throw Error("sqrt_: not implemented yet"); }
const Tensor& rsqrt_(const Tensor& t) { throw Error("rsqrt_: not implemented yet"); }
const Tensor& abs_(const Tensor& t) { throw Error("abs_: not implemented yet"); }
const Tensor& sign_(const Tensor& t) { throw Error("sign_: not implemented yet"); }
const Tensor& clamp_(const Tensor& t, std::optional<double> min, std::optional<double> max) { throw Error("clamp_: not implemented yet"); }

}  // namespace graft
