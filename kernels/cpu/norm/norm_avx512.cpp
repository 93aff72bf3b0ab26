// The normalisation kernels compiled for the avx512 level (flags set per file in CMake).
#define GRAFT_ISA_NAMESPACE avx512
#include "kernels/cpu/norm/norm_impl.h"
