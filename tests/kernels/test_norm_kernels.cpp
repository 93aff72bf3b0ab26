// The normalisation kernels at every ISA level against norm_kernels_ref: the
// channel kernels on [A, C, S] blocks (S == 1 columns, S around the lanes, a
// row stride ld past C*S) and the layer-norm row kernels around the lanes and
// the column tile, with and without weight and bias. Values carry a mean of
// 30 so the one-pass statistics are tested against cancellation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/norm/norm.h"

using namespace graft::kernels;
using namespace graft::kernels::cpu;

namespace {

template <typename T>
std::vector<T> lcg(size_t n, uint64_t seed, double scale, double offset = 0.0) {
    std::vector<T> v(n);
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (T& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = T(offset + scale * (2.0 * double(s >> 11) / double(1ull << 53) - 1.0));
    }
    return v;
}

size_t sz(int64_t n) { return static_cast<size_t>(n); }

// atol + rtol |want|, atol scaled by the size of the terms that cancel (`scale`:
// rstd for the layer-norm backward, whose D == 1 rows have var 0 and rstd 316).
template <typename T, typename U>
void compare(const std::vector<U>& got, const std::vector<U>& want, const char* what, int64_t a, int64_t b,
             double scale = 1.0) {
    const double rtol = std::is_same_v<T, float> ? 2e-5 : 1e-11;
    const double atol = (std::is_same_v<T, float> ? 2e-5 : 1e-11) * scale;
    for (size_t i = 0; i < got.size(); ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= atol + rtol * std::abs(double(want[i]))))
            FAIL(what << " " << isa_name(active_isa()) << " sizes " << a << " x " << b << ": element " << i << " = "
                      << double(got[i]) << ", want " << double(want[i]));
}

template <typename T>
void check_channels(const NormKernels<T>& k, const NormKernels<T>& ref, int64_t A, int64_t C, int64_t S) {
    const int64_t ld = C * S + 3;  // rows with a gap after each
    const size_t n = size_t(A * ld);
    const auto x = lcg<T>(n, 1, 2.0, 30.0), g = lcg<T>(n, 2, 1.0);
    const auto center = lcg<T>(size_t(C), 3, 1.0, 30.0), a = lcg<T>(size_t(C), 4, 1.0), b = lcg<T>(size_t(C), 5, 1.0),
               kk = lcg<T>(size_t(C), 6, 1.0);
    std::vector<double> mean(sz(C)), var(sz(C)), want_mean(sz(C)), want_var(sz(C));
    k.moments(A, C, S, ld, x.data(), mean.data(), var.data());
    ref.moments(A, C, S, ld, x.data(), want_mean.data(), want_var.data());
    compare<T>(mean, want_mean, "moments mean", A * C, S);
    compare<T>(var, want_var, "moments var", A * C, S);
    std::vector<T> y(n, T(0)), want_y(n, T(0));
    k.affine(A, C, S, ld, x.data(), center.data(), a.data(), b.data(), y.data());
    ref.affine(A, C, S, ld, x.data(), center.data(), a.data(), b.data(), want_y.data());
    compare<T>(y, want_y, "affine", A * C, S);
    std::vector<double> sg(sz(C)), sgx(sz(C)), want_sg(sz(C)), want_sgx(sz(C));
    k.grad_sums(A, C, S, ld, g.data(), x.data(), want_mean.data(), sg.data(), sgx.data());
    ref.grad_sums(A, C, S, ld, g.data(), x.data(), want_mean.data(), want_sg.data(), want_sgx.data());
    compare<T>(sg, want_sg, "grad_sums g", A * C, S);
    compare<T>(sgx, want_sgx, "grad_sums gx", A * C, S);
    k.grad_apply(A, C, S, ld, g.data(), x.data(), center.data(), a.data(), b.data(), kk.data(), y.data());
    ref.grad_apply(A, C, S, ld, g.data(), x.data(), center.data(), a.data(), b.data(), kk.data(), want_y.data());
    compare<T>(y, want_y, "grad_apply", A * C, S);
}

template <typename T>
void check_rows(const NormKernels<T>& k, const NormKernels<T>& ref, int64_t M, int64_t D, bool affine) {
    const size_t n = size_t(M * D);
    const auto x = lcg<T>(n, 7, 2.0, 30.0), g = lcg<T>(n, 8, 1.0);
    const auto w = lcg<T>(size_t(D), 9, 1.0, 1.0), b = lcg<T>(size_t(D), 10, 1.0);
    const T* pw = affine ? w.data() : nullptr;
    const T* pb = affine ? b.data() : nullptr;
    std::vector<T> y(n), want_y(n);
    std::vector<double> mean(sz(M)), rstd(sz(M)), want_mean(sz(M)), want_rstd(sz(M));
    k.layer_forward(M, D, x.data(), pw, pb, 1e-5, y.data(), mean.data(), rstd.data());
    ref.layer_forward(M, D, x.data(), pw, pb, 1e-5, want_y.data(), want_mean.data(), want_rstd.data());
    compare<T>(y, want_y, "layer_forward", M, D);
    compare<T>(rstd, want_rstd, "layer_forward rstd", M, D);
    k.layer_backward(M, D, g.data(), x.data(), pw, want_mean.data(), want_rstd.data(), y.data());
    ref.layer_backward(M, D, g.data(), x.data(), pw, want_mean.data(), want_rstd.data(), want_y.data());
    double max_rstd = 1.0;
    for (double r : want_rstd) max_rstd = std::max(max_rstd, r);
    compare<T>(y, want_y, "layer_backward", M, D, max_rstd);
    std::vector<T> dw(sz(D)), db(sz(D)), want_dw(sz(D)), want_db(sz(D));
    k.layer_param_grads(M, D, D, g.data(), x.data(), want_mean.data(), want_rstd.data(), dw.data(), db.data());
    ref.layer_param_grads(M, D, D, g.data(), x.data(), want_mean.data(), want_rstd.data(), want_dw.data(),
                          want_db.data());
    compare<T>(dw, want_dw, "layer_param_grads dw", M, D);
    compare<T>(db, want_db, "layer_param_grads db", M, D);
}

template <typename T>
void check_levels() {
    const Isa saved = active_isa();
    const NormKernels<T> ref = norm_kernels_ref<T>();
    for (int level = 0; level <= int(detected_isa()); ++level) {
        set_isa(Isa(level));
        const NormKernels<T> k = norm_kernels<T>(active_isa());
        for (int64_t A : {1, 3, 17})
            for (int64_t C : {1, 3, 17})
                for (int64_t S : {1, 3, 7, 8, 9, 17, 63, 129}) check_channels(k, ref, A, C, S);
        for (int64_t M : {1, 3, 17})
            for (int64_t D : {1, 3, 7, 8, 9, 17, 63, 64, 65, 129})
                for (bool affine : {false, true}) check_rows(k, ref, M, D, affine);
    }
    set_isa(saved);
}

}  // namespace

TEST_CASE("float norm kernels match the reference at every ISA level", "[kernels][norm]") { check_levels<float>(); }
TEST_CASE("double norm kernels match the reference at every ISA level", "[kernels][norm]") { check_levels<double>(); }
