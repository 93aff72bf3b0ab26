// What conv_bench (Graft) and conv_onednn_bench (oneDNN directly) share, so their
// rows line up: the shapes, and the timing that prints one line per shape and
// pass, "name pass median_ms best_ms median_cpu_ms best_cpu_ms" (wall clock, then
// the process's CPU time), which run.sh reads.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace conv_bench {

struct Shape2 {
    std::string name;
    int64_t c, hw, stride, groups;  // 3x3 kernel, padding 1, C -> C
};

// ResNet-18's four 3x3 stages and MobileNetV2's depthwise layers (stride 1 and 2).
inline std::vector<Shape2> shapes() {
    std::vector<Shape2> s;
    for (auto [c, hw] : {std::pair{64, 56}, {128, 28}, {256, 14}, {512, 7}})
        s.push_back({"resnet18_" + std::to_string(hw) + "x" + std::to_string(hw) + "x" + std::to_string(c), c, hw, 1, 1});
    for (auto [c, hw] : {std::pair{32, 112}, {144, 56}, {192, 28}, {576, 14}, {960, 7}})
        for (int64_t st : {1, 2})
            s.push_back({"dw_" + std::to_string(hw) + "x" + std::to_string(hw) + "x" + std::to_string(c) + "_s" +
                             std::to_string(st),
                         c, hw, st, c});
    return s;
}

inline double cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

// One warm-up call, then `reps` timed calls; prints the line run.sh reads.
template <typename Fn>
void time_it(const std::string& name, const char* pass, int reps, Fn&& fn) {
    fn();
    std::vector<double> ms, cpu;
    for (int r = 0; r < reps; ++r) {
        const double c0 = cpu_ms();
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        cpu.push_back(cpu_ms() - c0);
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("%s %s %.3f %.3f %.3f %.3f\n", name.c_str(), pass, ms[ms.size() / 2], ms[0], cpu[cpu.size() / 2], cpu[0]);
    std::fflush(stdout);
}

}  // namespace conv_bench
