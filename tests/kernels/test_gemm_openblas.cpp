// The optional OpenBLAS backend (kernels/cpu/gemm.h, GemmBackend): built in by
// default (GRAFT_OPENBLAS=ON) and loaded with dlopen; tools/setup.sh installs
// libopenblas0-pthread, so on the project's machines this test really runs it.
// It checks that choosing it routes sgemm/dgemm (and the fused epilogue, done as
// a separate pass) to OpenBLAS with the same results as Graft's own GEMM, and
// that Graft stays the default.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/gemm.h"

using namespace graft::kernels::cpu;

namespace {

std::vector<float> values(size_t n, unsigned seed) {
    std::vector<float> v(n);
    unsigned s = seed;
    for (float& x : v) {
        s = s * 1664525u + 1013904223u;
        x = float(s >> 8) / float(1u << 24) - 0.5f;
    }
    return v;
}

struct BackendScope {
    GemmBackend saved = gemm_backend();
    ~BackendScope() { set_gemm_backend(saved); }
};

}  // namespace

TEST_CASE("Graft's GEMM is the default backend", "[kernels][gemm][openblas]") {
    REQUIRE(gemm_backend() == GemmBackend::Graft);
}

TEST_CASE("the OpenBLAS backend gives Graft's results, epilogue included", "[kernels][gemm][openblas]") {
    if (!openblas_available()) {
        // Built in but not loadable: choosing it must say why, and the machine is not set up as tools/setup.sh does.
        REQUIRE_THROWS_WITH(set_gemm_backend(GemmBackend::OpenBlas), Catch::Contains("OpenBLAS"));
        FAIL("libopenblas.so.0 is not loadable here; tools/setup.sh installs libopenblas0-pthread "
             "(or configure with -DGRAFT_OPENBLAS=OFF)");
    }
    BackendScope restore;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            const int64_t m = 37, n = 45, k = 70;
            const auto a = values(size_t(m * k), 1), b = values(size_t(k * n), 2), bias = values(size_t(n), 3);
            GemmEpilogue<float> e;
            e.col_bias = bias.data();
            e.relu = true;
            std::vector<float> mine(size_t(m * n), 1.f), theirs = mine;
            set_gemm_backend(GemmBackend::Graft);
            sgemm(ta, tb, m, n, k, 0.5f, a.data(), ta ? m : k, b.data(), tb ? k : n, 2.f, mine.data(), n, e);
            set_gemm_backend(GemmBackend::OpenBlas);
            REQUIRE(gemm_backend() == GemmBackend::OpenBlas);
            sgemm(ta, tb, m, n, k, 0.5f, a.data(), ta ? m : k, b.data(), tb ? k : n, 2.f, theirs.data(), n, e);
            for (size_t i = 0; i < mine.size(); ++i) REQUIRE(std::abs(mine[i] - theirs[i]) <= 1e-4f);
        }
    // double, batched
    const int64_t m = 9, n = 11, k = 13, batch = 3;
    std::vector<double> a(size_t(batch * m * k)), b(size_t(batch * k * n));
    for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(double(i));
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(double(i));
    std::vector<double> mine(size_t(batch * m * n)), theirs(mine.size());
    set_gemm_backend(GemmBackend::Graft);
    dgemm_strided_batched(false, false, m, n, k, 1.0, a.data(), k, m * k, b.data(), n, k * n, 0.0, mine.data(), n,
                          m * n, batch);
    set_gemm_backend(GemmBackend::OpenBlas);
    dgemm_strided_batched(false, false, m, n, k, 1.0, a.data(), k, m * k, b.data(), n, k * n, 0.0, theirs.data(), n,
                          m * n, batch);
    for (size_t i = 0; i < mine.size(); ++i) REQUIRE(std::abs(mine[i] - theirs[i]) <= 1e-12);
}
