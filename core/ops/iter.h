// The elementwise iterator: walks N operands of one (broadcast) shape and calls a
// 1-D loop on each run along the innermost dimension, in parallel.
//
//   Operand ops[] = {{out.raw_data(), out_strides}, {a.raw_data(), a_strides}, ...};
//   for_each_run<3>(shape, ops, element_sizes, [&](int64_t n, char* const* ptr, const int64_t* stride) {...});
//
// Strides are in elements and already broadcast to `shape` (0 on broadcast
// dims). Adjacent dimensions that every operand can walk as one are merged
// first, so a contiguous tensor is a single run split across threads.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/shape.h"
#include "core/small_vector.h"
#include "kernels/parallel.h"

namespace graft {

struct IterOperand {
    void* data;
    Strides strides;  // broadcast to the iteration shape
    size_t element_size;
};

// The strides `t_shape`/`t_strides` take when broadcast to `shape` (right-aligned).
Strides broadcast_strides(const Shape& t_shape, const Strides& t_strides, const Shape& shape);

// Elementwise work below this many elements runs on the calling thread.
inline constexpr int64_t kElementwiseGrain = 32768;

template <size_t N, typename Fn>
void for_each_run(const Shape& shape, const std::array<IterOperand, N>& ops, Fn&& fn,
                  int64_t grain = kElementwiseGrain) {
    // Coalesce: merge dim d into d+1 when every operand has stride[d] == stride[d+1] * size[d+1].
    using Dims = SmallVector<int64_t, 8>;
    Dims sizes;
    std::array<Dims, N> strides;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        bool merge = !sizes.empty();
        for (size_t k = 0; k < N && merge; ++k)
            merge = strides[k].back() == ops[k].strides[d] * shape[d];
        if (merge) {
            sizes.back() *= shape[d];
            for (size_t k = 0; k < N; ++k) strides[k].back() = ops[k].strides[d];
        } else {
            sizes.push_back(shape[d]);
            for (size_t k = 0; k < N; ++k) strides[k].push_back(ops[k].strides[d]);
        }
    }
    int64_t numel = 1;
    for (int64_t s : sizes) numel *= s;
    if (shape_numel(shape) == 0) return;
    if (sizes.empty()) {  // a single element
        sizes.push_back(1);
        for (size_t k = 0; k < N; ++k) strides[k].push_back(0);
    }
    const size_t nd = sizes.size();
    const int64_t inner = sizes[nd - 1];
    std::array<int64_t, N> inner_stride;
    for (size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][nd - 1];

    parallel_for(0, numel, grain, [&](int64_t lo, int64_t hi) {
        // Multi-index of element `lo`, then walk run by run.
        Dims index_storage(nd, 0);
        int64_t* index = index_storage.data();
        int64_t rem = lo;
        for (size_t d = nd; d-- > 0;) {
            index[d] = rem % sizes[d];
            rem /= sizes[d];
        }
        std::array<char*, N> ptr;
        for (size_t k = 0; k < N; ++k) {
            int64_t off = 0;
            for (size_t d = 0; d < nd; ++d) off += index[d] * strides[k][d];
            ptr[k] = static_cast<char*>(ops[k].data) + off * int64_t(ops[k].element_size);
        }
        int64_t pos = lo;
        while (pos < hi) {
            const int64_t run = std::min(hi - pos, inner - index[nd - 1]);
            fn(run, ptr.data(), inner_stride.data());
            pos += run;
            if (pos >= hi) break;
            // Advance the multi-index past this run and recompute pointers incrementally.
            for (size_t k = 0; k < N; ++k)
                ptr[k] += run * inner_stride[k] * int64_t(ops[k].element_size);
            index[nd - 1] += run;
            for (size_t d = nd - 1; d > 0 && index[d] == sizes[d]; --d) {
                for (size_t k = 0; k < N; ++k)
                    ptr[k] += (strides[k][d - 1] - sizes[d] * strides[k][d]) * int64_t(ops[k].element_size);
                index[d] = 0;
                ++index[d - 1];
            }
        }
    });
}

}  // namespace graft
