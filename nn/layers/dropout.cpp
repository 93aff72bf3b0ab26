// Dropout over the dropout op (core/ops/nn_ops.h).
#include "nn/layers/dropout.h"

#include <cstdio>

#include "core/ops/nn_ops.h"

namespace graft::nn {

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
    check(p >= 0.0 && p <= 1.0, "Dropout", "dropout probability has to be between 0 and 1, but got ", p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training(), generator); }

std::string Dropout::extra_repr() const {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", p);
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";  // Python writes 1.0, not 1
    return "p=" + s + ", inplace=False";
}

}  // namespace graft::nn
