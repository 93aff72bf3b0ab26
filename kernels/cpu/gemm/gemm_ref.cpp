// The reference GEMM: the naive triple loop, single-threaded, written to be
// obviously right. Tests compare every ISA level of sgemm/dgemm with it.
#include "kernels/cpu/gemm.h"

namespace graft::kernels::cpu {

// c[m, n] = alpha op(a)[m, k] op(b)[k, n] + beta c
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T acc = 0;
            for (int64_t p = 0; p < k; ++p) {
                const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
                const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                acc += av * bv;
            }
            T& out = c[i * ldc + j];
            out = beta == T(0) ? alpha * acc : alpha * acc + beta * out;
        }
}

template void gemm_ref<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                              int64_t, float, float*, int64_t);
template void gemm_ref<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                               const double*, int64_t, double, double*, int64_t);

}  // namespace graft::kernels::cpu
