// The normalisation kernels compiled for the avx2 level (flags set per file in CMake).
#define GRAFT_ISA_NAMESPACE avx2
#include "kernels/cpu/norm/norm_impl.h"
