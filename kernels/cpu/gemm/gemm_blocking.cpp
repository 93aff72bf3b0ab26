// The GEMM blocking table, one row per ISA level and dtype (as BLIS's cntx_init):
// register block MR x NR, cache blocks MC, KC, NC, and the micro-kernel and
// packing functions built for that block. A new ISA is one micro-kernel file plus
// one row here.
//
// Sizes measured on the development machine, an AMD EPYC Zen 4 core (32 KiB L1d,
// 1 MiB L2, 32 MiB L3 shared; one 512-bit FMA per cycle), with
// benchmarks/kernels/sgemm_bench --sweep (which re-measures them anywhere):
//   KC: the C tile is read and written once per KC slice, so a larger KC amortises
//       it; 512 floats keeps the A micro-panel (14 x 512 x 4 = 28 KiB) in L1 and
//       the B micro-panel (64 KiB) in L2. KC 512-768 measured alike (1024^3 and
//       2048^3: 99-102 GFLOP/s on one core), 256: 94, 192: 89.
//   MC: the packed A block, MC x KC (168 x 512 x 4 = 336 KiB), a third of L2;
//       112-336 measured within noise.
//   NC: the packed B block, KC x NC, 8 MiB of L3 per thread; rarely binding.
// double and bf16 rows keep the float rows' bytes per panel.
#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

// float: scalar reference 4x8, AVX2 6x16, AVX-512 14x32.
const GemmConfig<float, float> kFloat[kNumIsas] = {
    {"scalar 4x8", 4, 8, 128, 256, 1024, 1, gemm_ukernel_ref<float, 4, 8>, gemm_pack_a<float, 4>,
     gemm_pack_b<float, 8>},
    {"avx2 6x16", 6, 16, 168, 256, 4080, 1, gemm_ukernel_avx2_6x16, gemm_pack_a<float, 6>, gemm_pack_b<float, 16>},
    {"avx512 14x32", 14, 32, 168, 512, 4096, 1, gemm_ukernel_avx512_14x32, gemm_pack_a_avx512<14>,
     gemm_pack_b_avx512<32>, gemm_ukernel_avx512_14x32_strided, 128, 1152},
};

// double: scalar reference 4x4, AVX2 6x8, AVX-512 14x16 (KC halved: same bytes as float).
const GemmConfig<double, double> kDouble[kNumIsas] = {
    {"scalar 4x4", 4, 4, 128, 128, 1024, 1, gemm_ukernel_ref<double, 4, 4>, gemm_pack_a<double, 4>,
     gemm_pack_b<double, 4>},
    {"avx2 6x8", 6, 8, 120, 192, 2040, 1, gemm_ukernel_avx2_6x8, gemm_pack_a<double, 6>, gemm_pack_b<double, 8>},
    {"avx512 14x16", 14, 16, 168, 256, 2048, 1, gemm_ukernel_avx512_14x16, gemm_pack_a<double, 14>,
     gemm_pack_b<double, 16>},
};

// bf16 (float C): AVX512_BF16 14x32; k in pairs, KC doubled (same bytes as float).
const GemmConfig<bf16_bits, float> kBf16Avx512 = {
    "avx512bf16 14x32", 14, 32, 168, 1024, 4096, 2, gemm_ukernel_avx512bf16_14x32, gemm_pack_a_bf16<14>,
    gemm_pack_b_bf16<32>};

}  // namespace

const GemmConfig<float, float>& gemm_config_f32(Isa isa) { return kFloat[int(isa)]; }
const GemmConfig<double, double>& gemm_config_f64(Isa isa) { return kDouble[int(isa)]; }
const GemmConfig<bf16_bits, float>* gemm_config_bf16(Isa isa) {
    return isa == Isa::Avx512 && cpu_has_avx512_bf16() ? &kBf16Avx512 : nullptr;
}

}  // namespace graft::kernels::cpu
