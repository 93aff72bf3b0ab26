// How an op records its backward. An op computes its outputs, then calls
//
//   autograd::record("mul", {a, b}, out,
//       [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g, const Needs& needs) {
//           return Grads{needs[0] ? mul(g, sb.get("mul")) : Tensor(),
//                        needs[1] ? mul(g, sa.get("mul")) : Tensor()};
//       });
//
// record() does nothing (and the lambda is never built into a node) when grad
// mode is off or no input requires grad. The lambda returns one gradient per
// input, shaped like that input, and skips those whose needs[i] is false.
// Saved tensors are detached aliases that remember the version they were saved
// at, so backward refuses to read one that was changed in place since.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"

namespace graft::autograd {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;
using BackwardFn = std::function<Grads(const Tensor& grad, const Needs& needs)>;
using MultiBackwardFn = std::function<Grads(const std::vector<Tensor>& grads, const Needs& needs)>;

class SavedTensor {
public:
    SavedTensor() = default;
    explicit SavedTensor(const Tensor& t);
    // The saved value; throws Error naming `op` if it was modified in place.
    Tensor get(const char* op) const;
    bool defined() const { return tensor_.defined(); }

private:
    Tensor tensor_;
    uint64_t version_ = 0;
};

// True when grad mode is on and some input requires grad: the one test an op
// makes before doing any autograd work.
bool should_record(std::initializer_list<const Tensor*> inputs);
bool should_record(const std::vector<Tensor>& inputs);

void record(const char* op, const std::vector<Tensor>& inputs, const Tensor& output, BackwardFn fn);
void record_multi(const char* op, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                  MultiBackwardFn fn);

// Marks `view` (produced by a view op from `base`) so that in-place ops on it
// are refused while gradients are tracked.
void mark_view(const Tensor& base, const Tensor& view);

// In-place ops: check that `self` may be written while tracking gradients,
// then, after computing `result` out of place from a clone of self, copy it
// into self and make self's history that of result.
void check_inplace(const Tensor& self, const char* op);
void rebase_history(const Tensor& self, const Tensor& result);

// Sums `grad` down to `shape` (undoing broadcasting in the forward).
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace graft::autograd
