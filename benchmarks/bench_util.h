// What the benchmark programs share: wall time since a point, and the process's
// peak resident set size (each program runs one case per process, so the peak
// is that case's own).
#pragma once

#include <sys/resource.h>

#include <chrono>

namespace graft::bench {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;  // KiB on Linux
}

}  // namespace graft::bench
