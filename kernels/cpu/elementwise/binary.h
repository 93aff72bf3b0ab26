// Binary elementwise kernels: strided 1-D loops that the core's iterator calls
// for each run of the (broadcast, coalesced) output.
//
//   out[i*so] = op(a[i*sa], b[i*sb])   for 0 <= i < n
//
// A stride of 0 repeats one value (a broadcast dimension or a Scalar operand).
// Add and Sub compute a + alpha*b and a - alpha*b.
//
// The loop body is written once (binary_impl.h) and compiled three times: by
// binary_dispatch.cpp for baseline x86-64 (the scalar reference), and by
// binary_avx2.cpp and binary_avx512.cpp with their own flags; binary_loop<T>(isa)
// picks one. Each copy lives in its own namespace (ref, avx2, avx512) so the
// linker never merges code built for different levels.
// Comparisons write bool (uint8 0/1) and have their own loop type.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.h"

namespace graft::kernels::cpu {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Pow, Maximum, Minimum };
enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };

template <typename T>
using BinaryLoop = void (*)(BinaryOp op, int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out,
                            int64_t so, T alpha);
template <typename T>
using CompareLoop = void (*)(CompareOp op, int64_t n, const T* a, int64_t sa, const T* b, int64_t sb,
                             bool* out, int64_t so);

// Defined for float, double, int64_t, int32_t, uint8_t.
template <typename T> BinaryLoop<T> binary_loop(Isa isa);
template <typename T> CompareLoop<T> compare_loop(Isa isa);

}  // namespace graft::kernels::cpu
