// The GEMM blocking table, one row per ISA level and dtype (as BLIS's cntx_init):
// register block MR x NR, cache blocks MC, KC, NC, and the micro-kernel and
// packing functions built for that block. A new ISA is one micro-kernel file plus
// one row here.
//
// Sizes chosen for the development machine, an AMD EPYC Zen 4 core (32 KiB L1d,
// 1 MiB L2, 32 MiB L3 shared), and sound for Intel server cores too:
//   KC: an MR x KC A micro-panel plus a KC x NR B micro-panel fit L1/L2 streams;
//       the C tile is read and written once per KC slice, so larger KC amortises it.
//   MC: the packed A block, MC x KC, takes about half of L2.
//   NC: the packed B block, KC x NC, a few MiB of L3 per thread.
// benchmarks/kernels/sgemm_bench --sweep re-measures the choices.
#include "kernels/cpu/gemm/gemm_kernel.h"

namespace graft::kernels::cpu {

namespace {

// float: scalar reference 4x8, AVX2 6x16, AVX-512 14x32.
const GemmConfig<float, float> kFloat[kNumIsas] = {
    {"scalar 4x8", 4, 8, 128, 256, 1024, 1, gemm_ukernel_ref<float, 4, 8>, gemm_pack_a<float, 4>,
     gemm_pack_b<float, 8>},
    {"avx2 6x16", 6, 16, 168, 256, 4080, 1, gemm_ukernel_avx2_6x16, gemm_pack_a<float, 6>, gemm_pack_b<float, 16>},
    {"avx512 14x32", 14, 32, 168, 256, 4096, 1, gemm_ukernel_avx512_14x32, gemm_pack_a<float, 14>,
     gemm_pack_b<float, 32>, gemm_ukernel_avx512_14x32_strided, 128, 96, 1152},
};

// double: scalar reference 4x4, AVX2 6x8, AVX-512 14x16 (KC halved: same bytes as float).
const GemmConfig<double, double> kDouble[kNumIsas] = {
    {"scalar 4x4", 4, 4, 128, 128, 1024, 1, gemm_ukernel_ref<double, 4, 4>, gemm_pack_a<double, 4>,
     gemm_pack_b<double, 4>},
    {"avx2 6x8", 6, 8, 120, 192, 2040, 1, gemm_ukernel_avx2_6x8, gemm_pack_a<double, 6>, gemm_pack_b<double, 8>},
    {"avx512 14x16", 14, 16, 112, 192, 2048, 1, gemm_ukernel_avx512_14x16, gemm_pack_a<double, 14>,
     gemm_pack_b<double, 16>},
};

// bf16 (float C): AVX512_BF16 14x32; k in pairs, KC doubled (same bytes as float).
const GemmConfig<bf16_bits, float> kBf16Avx512 = {
    "avx512bf16 14x32", 14, 32, 168, 512, 4096, 2, gemm_ukernel_avx512bf16_14x32, gemm_pack_a_bf16<14>,
    gemm_pack_b_bf16<32>};

}  // namespace

const GemmConfig<float, float>& gemm_config_f32(Isa isa) { return kFloat[int(isa)]; }
const GemmConfig<double, double>& gemm_config_f64(Isa isa) { return kDouble[int(isa)]; }
const GemmConfig<bf16_bits, float>* gemm_config_bf16(Isa isa) {
    return isa == Isa::Avx512 && cpu_has_avx512_bf16() ? &kBf16Avx512 : nullptr;
}

}  // namespace graft::kernels::cpu
