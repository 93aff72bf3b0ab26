// Axis scales for transfer/training/chart: from a data range to a pixel span,
// with "nice" ticks and their labels. Separate from the drawing so the tick
// rules can be tested on their own.
//
//   Axis a = make_axis(0.13, 0.87, AxisSpec{});  // ticks 0.1 .. 0.9 step 0.1
//   double px = a.to_pixel(0.5, 100, 500);      // 300
//
// Linear ticks step by 1, 2 or 5 x 10^k, about `target_ticks` of them; the
// range snaps outwards to whole steps unless a limit is fixed. Log axes (base
// 10) span whole decades, ticked at each power of ten, plus 2x and 5x when
// the axis covers at most two decades.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace graft::transfer {

struct AxisSpec {
    bool log = false;
    bool percent = false;  // labels as 100 * value with "%"
    bool integer = false;  // ticks at whole numbers only
    std::optional<double> min, max;  // fixed limits
    int target_ticks = 6;
};

struct Axis {
    double lo = 0, hi = 1;  // in data units
    bool log = false;
    std::vector<double> ticks;
    std::vector<std::string> labels;  // one per tick

    // Maps a data value to [pixel_lo, pixel_hi] (pass them swapped for y, which
    // grows downwards). Values outside the range map outside the span; NaN for
    // non-positive values on a log axis.
    double to_pixel(double v, double pixel_lo, double pixel_hi) const;
};

// The axis for data in [data_lo, data_hi] (either may be NaN when no data:
// the axis then covers [0, 1], or [1, 10] on a log scale).
Axis make_axis(double data_lo, double data_hi, const AxisSpec& spec);

// A tick label for `value` when ticks are `step` apart: just enough decimals
// ("0.25", "1.5", "300"), scientific beyond 1e6 or below 1e-4.
std::string tick_label(double value, double step, bool percent);

}  // namespace graft::transfer
