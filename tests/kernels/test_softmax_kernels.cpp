// The softmax kernels at every ISA level against softmax_*_ref: contiguous
// rows (inner 1) and strided tiles (inner > 1, ld > inner), sizes around the
// kernel's lanes and tiles, forward and backward, softmax and log_softmax.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/softmax/softmax.h"

using namespace graft::kernels;
using namespace graft::kernels::cpu;

namespace {

template <typename T>
std::vector<T> lcg(size_t n, uint64_t seed, double scale) {
    std::vector<T> v(n);
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (T& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = T(scale * (2.0 * double(s >> 11) / double(1ull << 53) - 1.0));
    }
    return v;
}

template <typename T>
void compare(const std::vector<T>& got, const std::vector<T>& want, const char* what, int64_t n, int64_t inner) {
    const double rtol = std::is_same_v<T, float> ? 1e-5 : 1e-13, atol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
    for (size_t i = 0; i < got.size(); ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= atol + rtol * std::abs(double(want[i]))))
            FAIL(what << " " << isa_name(active_isa()) << " n=" << n << " inner=" << inner << ": element " << i
                      << " = " << got[i] << ", want " << want[i]);
}

template <typename T>
void check_levels() {
    const Isa saved = active_isa();
    for (int level = 0; level <= int(detected_isa()); ++level) {
        set_isa(Isa(level));
        for (int64_t n : {1, 3, 17, 63, 129})
            for (int64_t inner : {1, 3, 70})
                for (bool log : {false, true}) {
                    const int64_t outer = 2, ld = inner == 1 ? 1 : inner + 5;
                    const size_t size = size_t(outer * n * ld);
                    const auto x = lcg<T>(size, 1, 20.0), g = lcg<T>(size, 2, 1.0);
                    std::vector<T> y(size, T(0)), want(size, T(0)), dx(size, T(0)), want_dx(size, T(0));
                    softmax_forward<T>(active_isa())(outer, n, inner, ld, x.data(), y.data(), log);
                    softmax_forward_ref<T>(outer, n, inner, ld, x.data(), want.data(), log);
                    compare(y, want, log ? "log_softmax forward" : "softmax forward", n, inner);
                    softmax_backward<T>(active_isa())(outer, n, inner, ld, want.data(), g.data(), dx.data(), log);
                    softmax_backward_ref<T>(outer, n, inner, ld, want.data(), g.data(), want_dx.data(), log);
                    compare(dx, want_dx, log ? "log_softmax backward" : "softmax backward", n, inner);
                }
    }
    set_isa(saved);
}

}  // namespace

TEST_CASE("float softmax kernels match the reference at every ISA level", "[kernels][softmax]") { check_levels<float>(); }
TEST_CASE("double softmax kernels match the reference at every ISA level", "[kernels][softmax]") { check_levels<double>(); }
