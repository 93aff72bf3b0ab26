#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define GRAFT_X86 1
#endif

namespace graft::kernels {

namespace {

#if GRAFT_X86
uint64_t xgetbv0() {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t(edx) << 32) | eax;
}
#endif

struct CpuFeatures {
    bool avx2 = false, avx512 = false, avx512_bf16 = false;
};

CpuFeatures probe() {
    CpuFeatures f;
#if GRAFT_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
    if (!osxsave || !avx) return f;
    const uint64_t xcr0 = xgetbv0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6, zmm_state = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, nullptr) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = ymm_state && fma && (b & (1u << 5));
    const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
               avx512vl = b & (1u << 31);
    f.avx512 = f.avx2 && zmm_state && avx512f && avx512dq && avx512bw && avx512vl;
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512_bf16 = f.avx512 && (a & (1u << 5));
#endif
    return f;
}

const CpuFeatures& features() {
    static const CpuFeatures f = probe();
    return f;
}

Isa level_from_env() {
    const Isa best = detected_isa();
    const char* env = std::getenv("GRAFT_ISA");
    if (!env || !*env) return best;
    Isa wanted = best;
    if (std::strcmp(env, "scalar") == 0) wanted = Isa::Scalar;
    else if (std::strcmp(env, "avx2") == 0) wanted = Isa::Avx2;
    else if (std::strcmp(env, "avx512") == 0) wanted = Isa::Avx512;
    else throw Error(cat_str("GRAFT_ISA: unknown level '", env, "' (expected scalar, avx2 or avx512)"));
    return int(wanted) <= int(best) ? wanted : best;
}

std::atomic<int>& active_level() {
    static std::atomic<int> level{int(level_from_env())};
    return level;
}

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
    }
    return "invalid";
}

Isa detected_isa() {
    const CpuFeatures& f = features();
    return f.avx512 ? Isa::Avx512 : f.avx2 ? Isa::Avx2 : Isa::Scalar;
}

Isa active_isa() { return Isa(active_level().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
    check(int(isa) <= int(detected_isa()), "set_isa", "this CPU does not support ", isa_name(isa),
          " (best: ", isa_name(detected_isa()), ")");
    active_level().store(int(isa), std::memory_order_relaxed);
}

bool cpu_has_avx512_bf16() { return features().avx512_bf16; }

}  // namespace graft::kernels
