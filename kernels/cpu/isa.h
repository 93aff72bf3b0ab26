// Instruction-set levels for CPU kernels, detected once from cpuid at run time.
// GRAFT_ISA=scalar|avx2|avx512 forces a level (never above what the CPU has),
// and tests switch levels with set_isa to compare every level with the scalar
// reference. Per-ISA kernel files are compiled with their own flags; nothing is
// compiled with a global -march, so one binary runs on any x86-64.
#pragma once

namespace graft::kernels {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
inline constexpr int kNumIsas = 3;

const char* isa_name(Isa isa);
// The best level this CPU (and OS: saved AVX state) supports.
Isa detected_isa();
// The level kernels use now: GRAFT_ISA if set, else detected_isa().
Isa active_isa();
// Forces a level; throws Error if the CPU lacks it. Tests restore it after use.
void set_isa(Isa isa);
bool cpu_has_avx512_bf16();

}  // namespace graft::kernels
