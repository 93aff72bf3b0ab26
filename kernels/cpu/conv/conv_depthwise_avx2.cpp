// The SIMD depthwise kernels compiled for the avx2 level (flags set per file in CMake).
#define GRAFT_ISA_NAMESPACE avx2
#include "kernels/cpu/conv/conv_depthwise_impl.h"
