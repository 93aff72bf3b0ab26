// conv_onednn_bench: oneDNN's own convolution primitives on conv_bench's shapes
// (ResNet-18 3x3 stages and MobileNetV2 depthwise layers, batch 32, float32), the
// "oneDNN directly" column of the convolution tables.
//
// oneDNN picks its layouts (format_tag::any: blocked nChw16c and friends), and
// only the primitives' execution is timed: the reorders from and to NCHW that a
// framework on NCHW tensors (Graft, PyTorch's default path) pays are left out,
// so this is oneDNN at its best. "fwd" is one forward_inference; "fwdbwd" is
// forward_training + backward_data + backward_weights, as conv_bench's
// forward + backward. Output lines as conv_bench: "name pass median_ms best_ms
// median_cpu_ms best_cpu_ms". Threads: oneDNN (Debian's build) runs on OpenMP;
// --threads sets omp_set_num_threads through the libgomp it loaded.
//
//   build/benchmarks/kernels/conv_onednn_bench --threads 2 [--reps 7] [--batch 32] [--only resnet|dw]
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <dnnl.hpp>

#include "benchmarks/kernels/conv_bench_common.h"

namespace {

using conv_bench::Shape2;
using conv_bench::time_it;

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

// A memory in the primitive's layout holding random values (filled through a
// reorder from a plain buffer, outside the timing).
memory random_memory(const memory::desc& want, const memory::desc& plain, engine& eng, stream& s, unsigned seed) {
    std::vector<float> v(plain.get_size() / sizeof(float));
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal;
    for (float& x : v) x = normal(gen);
    memory src(plain, eng, v.data()), dst(want, eng);
    reorder(src, dst).execute(s, src, dst);
    s.wait();
    return dst;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1, reps = 7;
    int64_t batch = 32;
    std::string only;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) set(threads);
    const dnnl_version_t* v = dnnl_version();
    std::printf("# oneDNN %d.%d.%d primitives, own layouts, reorders not timed, batch %lld, %d thread(s)\n",
                v->major, v->minor, v->patch, (long long)batch, threads);
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    for (const Shape2& sh : conv_bench::shapes()) {
        if (!only.empty() && sh.name.rfind(only, 0) != 0) continue;
        const int64_t c = sh.c, g = sh.groups, ho = (sh.hw + 2 - 3) / sh.stride + 1;
        const memory::dims src_dims{batch, c, sh.hw, sh.hw}, dst_dims{batch, c, ho, ho};
        const memory::dims w_dims = g > 1 ? memory::dims{g, c / g, c / g, 3, 3} : memory::dims{c, c, 3, 3};
        const memory::dims strides{sh.stride, sh.stride}, pad{1, 1};
        const memory::desc src_any(src_dims, dt::f32, tag::any), dst_any(dst_dims, dt::f32, tag::any),
            w_any(w_dims, dt::f32, tag::any);
        const memory::desc src_plain(src_dims, dt::f32, tag::nchw), dst_plain(dst_dims, dt::f32, tag::nchw),
            w_plain(w_dims, dt::f32, g > 1 ? tag::goihw : tag::oihw);

        // Forward inference.
        convolution_forward::primitive_desc inf_pd(
            convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_any, w_any,
                                      dst_any, strides, pad, pad),
            eng);
        memory x = random_memory(inf_pd.src_desc(), src_plain, eng, s, 1);
        memory w = random_memory(inf_pd.weights_desc(), w_plain, eng, s, 2);
        memory y(inf_pd.dst_desc(), eng);
        convolution_forward inf(inf_pd);
        time_it(sh.name, "fwd", reps, [&] {
            inf.execute(s, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
            s.wait();
        });

        // Forward training + backward data + backward weights.
        convolution_forward::primitive_desc fwd_pd(
            convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src_any, w_any,
                                      dst_any, strides, pad, pad),
            eng);
        convolution_backward_data::primitive_desc bwd_data_pd(
            convolution_backward_data::desc(algorithm::convolution_direct, src_any, w_any, dst_any, strides, pad, pad),
            eng, fwd_pd);
        convolution_backward_weights::primitive_desc bwd_w_pd(
            convolution_backward_weights::desc(algorithm::convolution_direct, src_any, w_any, dst_any, strides, pad,
                                               pad),
            eng, fwd_pd);
        memory xt = random_memory(fwd_pd.src_desc(), src_plain, eng, s, 3);
        memory wt = random_memory(fwd_pd.weights_desc(), w_plain, eng, s, 4);
        memory yt(fwd_pd.dst_desc(), eng);
        memory dy = random_memory(bwd_data_pd.diff_dst_desc(), dst_plain, eng, s, 5);
        memory dyw = bwd_w_pd.diff_dst_desc() == bwd_data_pd.diff_dst_desc()
                         ? dy
                         : random_memory(bwd_w_pd.diff_dst_desc(), dst_plain, eng, s, 5);
        memory xw = bwd_w_pd.src_desc() == fwd_pd.src_desc() ? xt
                                                             : random_memory(bwd_w_pd.src_desc(), src_plain, eng, s, 3);
        memory wd = bwd_data_pd.weights_desc() == fwd_pd.weights_desc()
                        ? wt
                        : random_memory(bwd_data_pd.weights_desc(), w_plain, eng, s, 4);
        memory dx(bwd_data_pd.diff_src_desc(), eng), dw(bwd_w_pd.diff_weights_desc(), eng);
        convolution_forward fwd(fwd_pd);
        convolution_backward_data bwd_data(bwd_data_pd);
        convolution_backward_weights bwd_w(bwd_w_pd);
        time_it(sh.name, "fwdbwd", reps, [&] {
            fwd.execute(s, {{DNNL_ARG_SRC, xt}, {DNNL_ARG_WEIGHTS, wt}, {DNNL_ARG_DST, yt}});
            bwd_data.execute(s, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, dx}});
            bwd_w.execute(s, {{DNNL_ARG_SRC, xw}, {DNNL_ARG_DIFF_DST, dyw}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
            s.wait();
        });
    }
    return 0;
}
