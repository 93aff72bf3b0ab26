// Tick placement and labels for chart axes.
#include "transfer/training/chart_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace graft::transfer {
namespace {

// 1, 2 or 5 x 10^k, the smallest not below `raw`.
double nice_step(double raw) {
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    const double nice = norm <= 1.0 + 1e-9 ? 1 : norm <= 2.0 + 1e-9 ? 2 : norm <= 5.0 + 1e-9 ? 5 : 10;
    return nice * mag;
}

// Decimals needed to write multiples of `step` exactly (steps are 1, 2, 5 x 10^k).
int decimals_for(double step) {
    for (int d = 0; d < 10; ++d) {
        const double scaled = step * std::pow(10.0, d);
        if (std::fabs(scaled - std::round(scaled)) < 1e-6 * scaled) return d;
    }
    return 10;
}

// "1e-5", "2e+6" -> "2e6": the short scientific form.
std::string short_scientific(double v) {
    const int exponent = int(std::floor(std::log10(std::fabs(v)) + 1e-9));
    const double mantissa = v / std::pow(10.0, exponent);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%ge%d", std::round(mantissa * 100) / 100, exponent);
    return buf;
}

Axis log_axis(double lo, double hi, const AxisSpec& spec) {
    if (!(lo > 0) || !(hi > 0)) lo = 1, hi = 10;
    if (spec.min && *spec.min > 0) lo = *spec.min;
    if (spec.max && *spec.max > 0) hi = *spec.max;
    if (hi < lo) std::swap(lo, hi);
    int a = int(std::floor(std::log10(lo) + 1e-9)), b = int(std::ceil(std::log10(hi) - 1e-9));
    if (b <= a) b = a + 1;
    Axis axis;
    axis.log = true;
    axis.lo = spec.min && *spec.min > 0 ? lo : std::pow(10.0, a);
    axis.hi = spec.max && *spec.max > 0 ? hi : std::pow(10.0, b);
    const int decades = b - a;
    const int every = std::max(1, (decades + 7) / 8);  // at most about 8 labelled decades
    for (int k = a; k <= b; ++k) {
        const double p = std::pow(10.0, k);
        std::vector<double> candidates{p};
        if (decades <= 2) candidates = {p, 2 * p, 5 * p};
        else if ((k - a) % every) continue;
        for (double v : candidates)
            if (v >= axis.lo * (1 - 1e-9) && v <= axis.hi * (1 + 1e-9)) {
                axis.ticks.push_back(v);
                axis.labels.push_back(tick_label(v, v, spec.percent));
            }
    }
    return axis;
}

}  // namespace

std::string tick_label(double value, double step, bool percent) {
    if (percent) value *= 100, step *= 100;
    const char* suffix = percent ? "%" : "";
    if (std::fabs(value) < 1e-12 * std::max(1.0, std::fabs(step))) return std::string("0") + suffix;
    const double mag = std::fabs(value);
    if (mag >= 1e6 || step < 1e-4 || (mag < 1e-3 && step == value)) return short_scientific(value) + suffix;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f%s", decimals_for(step), value, suffix);
    return buf;
}

double Axis::to_pixel(double v, double pixel_lo, double pixel_hi) const {
    double t;
    if (log) {
        if (!(v > 0)) return NAN;
        t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
        t = (v - lo) / (hi - lo);
    }
    return pixel_lo + t * (pixel_hi - pixel_lo);
}

Axis make_axis(double data_lo, double data_hi, const AxisSpec& spec) {
    if (spec.log) return log_axis(data_lo, data_hi, spec);
    const bool no_data = !std::isfinite(data_lo) || !std::isfinite(data_hi);
    double lo = no_data ? 0.0 : data_lo, hi = no_data ? 1.0 : data_hi;
    if (spec.min) lo = *spec.min;
    if (spec.max) hi = *spec.max;
    if (hi < lo) std::swap(lo, hi);
    if (!std::isfinite(hi - lo)) lo = -1e300, hi = 1e300;  // beyond doubles: no sensible axis anyway
    // One value, or a range too narrow for its magnitude to tick: give it room.
    if (hi - lo <= 1e-9 * std::max({1.0, std::fabs(lo), std::fabs(hi)})) {
        const double pad = spec.integer ? 1.0 : std::max(std::fabs(lo) * 0.1, 0.1);
        if (!spec.min) lo -= pad;
        if (!spec.max) hi += pad;
        if (spec.min && spec.max) hi = lo + pad;
    }
    double step = nice_step((hi - lo) / std::max(1, spec.target_ticks - 1));
    if (spec.integer) step = std::max(1.0, std::round(step));
    Axis axis;
    axis.lo = spec.min ? lo : std::floor(lo / step + 1e-9) * step;
    axis.hi = spec.max ? hi : std::ceil(hi / step - 1e-9) * step;
    if (spec.percent && !no_data) {  // fractions: never beyond 0% .. 100% unless the data is
        if (data_lo >= 0) axis.lo = std::max(axis.lo, 0.0);
        if (data_hi <= 1) axis.hi = std::min(axis.hi, 1.0);
    }
    if (!(std::fabs(axis.lo) / step < 1e15 && std::fabs(axis.hi) / step < 1e15)) return axis;  // no ticks
    const long long first = (long long)std::ceil(axis.lo / step - 1e-9);
    const long long last = (long long)std::floor(axis.hi / step + 1e-9);
    for (long long k = first; k <= last && axis.ticks.size() < 64; ++k) {
        const double v = double(k) * step;
        axis.ticks.push_back(v == 0 ? 0.0 : v);
        axis.labels.push_back(tick_label(v, step, spec.percent));
    }
    return axis;
}

}  // namespace graft::transfer
