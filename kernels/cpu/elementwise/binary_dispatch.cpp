// Picks the binary loop for an ISA level. Floating types have one compiled
// copy per level; integer and comparison loops are not worth vectorising
// separately and use the reference build at every level.
#define GRAFT_ISA_NAMESPACE ref
#include "kernels/cpu/elementwise/binary_impl.h"

namespace graft::kernels::cpu {

namespace avx2 {
template <typename T> void binary(BinaryOp, int64_t, const T*, int64_t, const T*, int64_t, T*, int64_t, T);
}
namespace avx512 {
template <typename T> void binary(BinaryOp, int64_t, const T*, int64_t, const T*, int64_t, T*, int64_t, T);
}

template <typename T>
BinaryLoop<T> binary_loop(Isa isa) {
    if constexpr (std::is_floating_point_v<T>) {
        if (isa == Isa::Avx512) return &avx512::binary<T>;
        if (isa == Isa::Avx2) return &avx2::binary<T>;
    }
    return &ref::binary<T>;
}

template <typename T>
CompareLoop<T> compare_loop(Isa) {
    return &ref::compare<T>;
}

template BinaryLoop<float> binary_loop<float>(Isa);
template BinaryLoop<double> binary_loop<double>(Isa);
template BinaryLoop<int64_t> binary_loop<int64_t>(Isa);
template BinaryLoop<int32_t> binary_loop<int32_t>(Isa);
template BinaryLoop<uint8_t> binary_loop<uint8_t>(Isa);
template CompareLoop<float> compare_loop<float>(Isa);
template CompareLoop<double> compare_loop<double>(Isa);
template CompareLoop<int64_t> compare_loop<int64_t>(Isa);
template CompareLoop<int32_t> compare_loop<int32_t>(Isa);
template CompareLoop<uint8_t> compare_loop<uint8_t>(Isa);
template CompareLoop<bool> compare_loop<bool>(Isa);

}  // namespace graft::kernels::cpu
