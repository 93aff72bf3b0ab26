// The body of the binary kernels, included once per ISA by binary_<isa>.cpp
// inside namespace GRAFT_ISA_NAMESPACE. The contiguous cases are split out so
// the compiler vectorises them at that file's ISA; the general strided loop is
// the fallback. Integer Pow is repeated multiplication (PyTorch semantics);
// integer Div never reaches here (true division promotes to float in the op).
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/elementwise/binary.h"

namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE {

template <typename T>
inline T int_pow(T base, T exp) {
    if constexpr (std::is_signed_v<T>) {
        if (exp < 0) return base == 1 ? T(1) : base == -1 ? (exp % 2 ? T(-1) : T(1)) : T(0);
    }
    T result = 1;
    while (exp > 0) {
        if (exp & 1) result = T(result * base);
        base = T(base * base);
        exp >>= 1;
    }
    return result;
}

template <BinaryOp Op, typename T>
inline T apply(T x, T y, T alpha) {
    if constexpr (Op == BinaryOp::Add) return T(x + alpha * y);
    if constexpr (Op == BinaryOp::Sub) return T(x - alpha * y);
    if constexpr (Op == BinaryOp::Mul) return T(x * y);
    if constexpr (Op == BinaryOp::Div) return T(x / y);
    if constexpr (Op == BinaryOp::Pow) {
        if constexpr (std::is_floating_point_v<T>) return std::pow(x, y);
        else return int_pow(x, y);
    }
    // NaN propagates, as in torch.maximum/minimum.
    if constexpr (Op == BinaryOp::Maximum) {
        if constexpr (std::is_floating_point_v<T>) { if (x != x || y != y) return x + y; }
        return x > y ? x : y;
    }
    if constexpr (Op == BinaryOp::Minimum) {
        if constexpr (std::is_floating_point_v<T>) { if (x != x || y != y) return x + y; }
        return x < y ? x : y;
    }
}

template <BinaryOp Op, typename T>
void binary_run(int64_t n, const T* __restrict a, int64_t sa, const T* __restrict b, int64_t sb,
                T* __restrict out, int64_t so, T alpha) {
    if (so == 1 && sa == 1 && sb == 1) {
        for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i], b[i], alpha);
    } else if (so == 1 && sa == 1 && sb == 0) {
        const T y = *b;
        for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i], y, alpha);
    } else if (so == 1 && sa == 0 && sb == 1) {
        const T x = *a;
        for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(x, b[i], alpha);
    } else {
        for (int64_t i = 0; i < n; ++i) out[i * so] = apply<Op>(a[i * sa], b[i * sb], alpha);
    }
}

template <typename T>
void binary(BinaryOp op, int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t so, T alpha) {
    switch (op) {
        case BinaryOp::Add: return binary_run<BinaryOp::Add>(n, a, sa, b, sb, out, so, alpha);
        case BinaryOp::Sub: return binary_run<BinaryOp::Sub>(n, a, sa, b, sb, out, so, alpha);
        case BinaryOp::Mul: return binary_run<BinaryOp::Mul>(n, a, sa, b, sb, out, so, alpha);
        case BinaryOp::Div: return binary_run<BinaryOp::Div>(n, a, sa, b, sb, out, so, alpha);
        case BinaryOp::Pow: return binary_run<BinaryOp::Pow>(n, a, sa, b, sb, out, so, alpha);
        case BinaryOp::Maximum: return binary_run<BinaryOp::Maximum>(n, a, sa, b, sb, out, so, alpha);
        case BinaryOp::Minimum: return binary_run<BinaryOp::Minimum>(n, a, sa, b, sb, out, so, alpha);
    }
}

template <CompareOp Op, typename T>
void compare_run(int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, bool* out, int64_t so) {
    for (int64_t i = 0; i < n; ++i) {
        const T x = a[i * sa], y = b[i * sb];
        bool r;
        if constexpr (Op == CompareOp::Eq) r = x == y;
        if constexpr (Op == CompareOp::Ne) r = x != y;
        if constexpr (Op == CompareOp::Lt) r = x < y;
        if constexpr (Op == CompareOp::Le) r = x <= y;
        if constexpr (Op == CompareOp::Gt) r = x > y;
        if constexpr (Op == CompareOp::Ge) r = x >= y;
        out[i * so] = r;
    }
}

template <typename T>
void compare(CompareOp op, int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, bool* out, int64_t so) {
    switch (op) {
        case CompareOp::Eq: return compare_run<CompareOp::Eq>(n, a, sa, b, sb, out, so);
        case CompareOp::Ne: return compare_run<CompareOp::Ne>(n, a, sa, b, sb, out, so);
        case CompareOp::Lt: return compare_run<CompareOp::Lt>(n, a, sa, b, sb, out, so);
        case CompareOp::Le: return compare_run<CompareOp::Le>(n, a, sa, b, sb, out, so);
        case CompareOp::Gt: return compare_run<CompareOp::Gt>(n, a, sa, b, sb, out, so);
        case CompareOp::Ge: return compare_run<CompareOp::Ge>(n, a, sa, b, sb, out, so);
    }
}

}  // namespace graft::kernels::cpu::GRAFT_ISA_NAMESPACE
