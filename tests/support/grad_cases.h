// The registry of gradient-check cases. Each tests/core/gradcheck_<family>.cpp
// registers cases with GRAFT_GRAD_CASE-free static objects:
//
//   static const GradCase add_case{"add", [] {
//       expect_gradcheck([](const auto& x) { return add(x[0], x[1]); },
//                        {rand64({2, 3}), rand64({3})});
//   }};
//
// A test iterates graft::ops::kOps and fails for every differentiable op that
// has no case here; another runs every case.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graft.h"
#include "core/autograd/gradcheck.h"

namespace graft::testing {

struct GradCase {
    GradCase(std::string op, std::function<void()> run);
};

std::multimap<std::string, std::function<void()>>& grad_cases();

// Runs gradcheck and fails the current Catch2 test with its message.
void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                      const autograd::GradcheckOptions& options = {});

// Random float64 tensors that require grad, seeded deterministically.
Tensor rand64(const Shape& shape, double low = -1.0, double high = 1.0);
// Values in [low, high] kept at least `gap` away from each other's neighbours and
// from kinks at 0 (for abs, relu, max...).
Tensor rand64_off_kinks(const Shape& shape, double gap = 0.05);

}  // namespace graft::testing
