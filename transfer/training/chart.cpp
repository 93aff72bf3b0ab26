// Chart layout: figure -> panels -> plot area, axes, series, legend.
#include "transfer/training/chart.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/image/image_write.h"
#include "transfer/training/chart_axis.h"

namespace graft::transfer {
namespace {

// Greys of the frame, kept together so the figure reads as one style.
constexpr Rgb kInk{34, 34, 34};         // titles
constexpr Rgb kLabel{68, 68, 68};       // axis labels, tick numbers
constexpr Rgb kFrame{176, 176, 176};    // plot frame, tick marks
constexpr Rgb kGrid{228, 230, 234};
constexpr Rgb kPlotBg{251, 251, 253};
constexpr Rgb kWhite{255, 255, 255};

constexpr double kTitleScale = 2.2, kLabelScale = 1.6, kTickScale = 1.45, kLegendScale = 1.5;

struct Range {
    double lo = INFINITY, hi = -INFINITY;
    void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
    bool empty() const { return !(hi >= lo); }
};

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

void data_ranges(const ChartPanel& p, Range& xr, Range& yr) {
    for (const auto& s : p.series)
        for (size_t i = 0; i < s.x.size(); ++i)
            if (usable(s.x[i], p.log_x) && usable(s.y[i], p.log_y)) {
                const bool in_x = (!p.x_min || s.x[i] >= *p.x_min) && (!p.x_max || s.x[i] <= *p.x_max);
                xr.add(s.x[i]);
                if (in_x) yr.add(s.y[i]);  // y fits what is visible in x
            }
}

struct Plot {
    Rect area;
    Axis x, y;
    double px(double v) const { return x.to_pixel(v, area.x0, area.x1); }
    double py(double v) const { return y.to_pixel(v, area.y1, area.y0); }
};

// Pixel-centred coordinate for a crisp 1-pixel line.
double crisp(double v) { return std::floor(v) + 0.5; }

void draw_axes(Raster& r, const Plot& plot) {
    const Rect& a = plot.area;
    r.fill_rect(a, kPlotBg);
    for (double t : plot.x.ticks) {
        const double x = crisp(plot.px(t));
        r.line(x, a.y0, x, a.y1, 1.0, kGrid);
        r.line(x, a.y1, x, a.y1 + 5, 1.0, kFrame);
    }
    for (double t : plot.y.ticks) {
        const double y = crisp(plot.py(t));
        r.line(a.x0, y, a.x1, y, 1.0, kGrid);
        r.line(a.x0 - 5, y, a.x0, y, 1.0, kFrame);
    }
    const double x0 = crisp(a.x0) - 1, x1 = crisp(a.x1), y0 = crisp(a.y0) - 1, y1 = crisp(a.y1);
    r.polyline({x0, x1, x1, x0, x0}, {y0, y0, y1, y1, y0}, 1.0, kFrame);
    for (size_t i = 0; i < plot.x.ticks.size(); ++i)
        r.text(plot.px(plot.x.ticks[i]), a.y1 + 10, plot.x.labels[i], kTickScale, kLabel, TextAlign::Center);
    const double th = Raster::text_height("0", kTickScale);
    for (size_t i = 0; i < plot.y.ticks.size(); ++i)
        r.text(a.x0 - 10, plot.py(plot.y.ticks[i]) - th / 2, plot.y.labels[i], kTickScale, kLabel, TextAlign::Right);
}

bool shows_markers(const ChartSeries& s) { return s.markers ? *s.markers : s.x.size() <= 40; }

void draw_series(Raster& r, const Plot& plot, const ChartPanel& panel, const ChartSeries& s, Rgb color) {
    std::vector<double> xs(s.x.size()), ys(s.x.size());
    for (size_t i = 0; i < s.x.size(); ++i) {
        const bool ok = usable(s.x[i], panel.log_x) && usable(s.y[i], panel.log_y);
        xs[i] = ok ? plot.px(s.x[i]) : NAN;
        ys[i] = ok ? plot.py(s.y[i]) : NAN;
    }
    // Lines may run a little past the frame; keep them inside it.
    r.set_clip(plot.area);
    if (s.line_width > 0) r.polyline(xs, ys, s.line_width, color, s.opacity);
    if (shows_markers(s)) {
        const double radius = std::max(2.5, s.line_width * 1.3);
        for (size_t i = 0; i < xs.size(); ++i) {
            if (!std::isfinite(xs[i])) continue;
            r.dot(xs[i], ys[i], radius + 1.3, kWhite, s.opacity);
            r.dot(xs[i], ys[i], radius, color, s.opacity);
        }
    }
    r.reset_clip();
}

void draw_marks(Raster& r, const Plot& plot, const ChartPanel& panel) {
    const Rect& a = plot.area;
    for (const ChartMark& m : panel.x_marks) {
        if (!usable(m.x, panel.log_x)) continue;
        const double x = crisp(plot.px(m.x));
        if (x < a.x0 || x > a.x1) continue;
        for (double y = a.y0; y < a.y1; y += 10) r.line(x, y, x, std::min(y + 6, a.y1), 1.5, m.color);
        if (m.label.empty()) continue;
        // Beside the line, on the side with room for the text.
        const double w = Raster::text_width(m.label, kTickScale);
        const bool right = x + 6 + w <= a.x1 - 4;
        r.fill_rect(Rect{right ? x + 3 : x - 9 - w, a.y0 + 4, right ? x + 9 + w : x - 3, a.y0 + 20}, kPlotBg, 0.85);
        r.text(right ? x + 6 : x - 6, a.y0 + 8, m.label, kTickScale, m.color, right ? TextAlign::Left : TextAlign::Right);
    }
}

// The legend goes in the corner of the plot where it hides the fewest points.
void draw_legend(Raster& r, const Plot& plot, const ChartPanel& panel, const std::vector<Rgb>& colors) {
    std::vector<size_t> listed;
    for (size_t i = 0; i < panel.series.size(); ++i)
        if (!panel.series[i].name.empty()) listed.push_back(i);
    if (listed.empty() || !panel.legend) return;
    const double pad = 10, sample = 26, row = 20;
    double text_w = 0;
    for (size_t i : listed) text_w = std::max(text_w, Raster::text_width(panel.series[i].name, kLegendScale));
    const double w = pad * 2 + sample + 8 + text_w, h = pad * 2 + row * double(listed.size()) - (row - 11);
    const Rect& a = plot.area;
    const double m = 12;
    const Rect corners[4] = {{a.x1 - m - w, a.y0 + m, a.x1 - m, a.y0 + m + h},
                             {a.x0 + m, a.y0 + m, a.x0 + m + w, a.y0 + m + h},
                             {a.x1 - m - w, a.y1 - m - h, a.x1 - m, a.y1 - m},
                             {a.x0 + m, a.y1 - m - h, a.x0 + m + w, a.y1 - m}};
    size_t best = 0, best_hits = SIZE_MAX;
    for (size_t c = 0; c < 4; ++c) {
        size_t hits = 0;
        for (const auto& s : panel.series)
            for (size_t i = 0; i < s.x.size(); ++i) {
                if (!usable(s.x[i], panel.log_x) || !usable(s.y[i], panel.log_y)) continue;
                const double x = plot.px(s.x[i]), y = plot.py(s.y[i]);
                hits += x >= corners[c].x0 - 4 && x <= corners[c].x1 + 4 && y >= corners[c].y0 - 4 &&
                        y <= corners[c].y1 + 4;
            }
        if (hits < best_hits) best = c, best_hits = hits;
    }
    const Rect box = corners[best];
    r.fill_rect(box, kWhite, 0.92);
    r.polyline({crisp(box.x0), crisp(box.x1), crisp(box.x1), crisp(box.x0), crisp(box.x0)},
               {crisp(box.y0), crisp(box.y0), crisp(box.y1), crisp(box.y1), crisp(box.y0)}, 1.0, kGrid);
    for (size_t k = 0; k < listed.size(); ++k) {
        const ChartSeries& s = panel.series[listed[k]];
        const double cy = box.y0 + pad + row * double(k) + 5.5;
        const Rgb color = colors[listed[k]];
        if (s.line_width > 0)
            r.line(box.x0 + pad, cy, box.x0 + pad + sample, cy, std::max(2.0, s.line_width), color,
                   std::max(0.5, s.opacity));
        if (shows_markers(s)) r.dot(box.x0 + pad + sample / 2, cy, 3.5, color, std::max(0.5, s.opacity));
        r.text(box.x0 + pad + sample + 8, cy - Raster::text_height(s.name, kLegendScale) / 2, s.name, kLegendScale,
               kLabel);
    }
}

void draw_panel(Raster& r, const ChartPanel& panel, const Rect& cell, size_t& palette_next) {
    for (const auto& s : panel.series)
        check(s.x.size() == s.y.size(), "render_chart", "series '", s.name, "' of panel '", panel.title, "' has ",
              s.x.size(), " x values and ", s.y.size(), " y values");
    Range xr, yr;
    data_ranges(panel, xr, yr);
    Plot plot;
    plot.x = make_axis(xr.lo, xr.hi, AxisSpec{panel.log_x, false, panel.integer_x, panel.x_min, panel.x_max, 7});
    if (panel.y_soft_max && !yr.empty()) yr.hi = std::min(yr.hi, std::max(yr.lo, *panel.y_soft_max));
    plot.y = make_axis(yr.lo, yr.hi, AxisSpec{panel.log_y, panel.y_percent, false, panel.y_min, panel.y_max, 6});

    double label_w = 0;
    for (const auto& l : plot.y.labels) label_w = std::max(label_w, Raster::text_width(l, kTickScale));
    const double left = cell.x0 + (panel.y_label.empty() ? 16 : 38) + label_w + 14;
    const double top = cell.y0 + (panel.title.empty() ? 20 : 50);
    const double bottom = cell.y1 - (panel.x_label.empty() ? 34 : 60);
    plot.area = Rect{std::floor(left), std::floor(top), std::floor(cell.x1 - 24), std::floor(bottom)};
    check(plot.area.width() > 40 && plot.area.height() > 40, "render_chart", "panel '", panel.title,
          "' is too small to draw (", cell.width(), "x", cell.height(), " pixels)");

    const double mid_x = (plot.area.x0 + plot.area.x1) / 2;
    if (!panel.title.empty()) r.text(mid_x, cell.y0 + 18, panel.title, kTitleScale, kInk, TextAlign::Center);
    if (!panel.x_label.empty()) r.text(mid_x, cell.y1 - 26, panel.x_label, kLabelScale, kLabel, TextAlign::Center);
    if (!panel.y_label.empty())
        r.text_vertical(cell.x0 + 20, (plot.area.y0 + plot.area.y1) / 2, panel.y_label, kLabelScale, kLabel);
    draw_axes(r, plot);

    std::vector<Rgb> colors;
    for (const auto& s : panel.series) colors.push_back(s.color ? *s.color : palette_color(palette_next++));
    if (xr.empty()) {
        r.text(mid_x, (plot.area.y0 + plot.area.y1) / 2 - 6, "no data", kLabelScale, kFrame, TextAlign::Center);
        return;
    }
    draw_marks(r, plot, panel);
    for (size_t i = 0; i < panel.series.size(); ++i) draw_series(r, plot, panel, panel.series[i], colors[i]);
    draw_legend(r, plot, panel, colors);
}

}  // namespace

Rgb palette_color(size_t index) {
    static constexpr Rgb kTab10[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                       {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                       {188, 189, 34},  {23, 190, 207}};
    return kTab10[index % 10];
}

Tensor render_chart(const std::vector<ChartPanel>& panels, const ChartOptions& options) {
    check(!panels.empty(), "render_chart", "no panels to draw");
    check(options.panel_width >= 200 && options.panel_height >= 150 && options.panel_width <= 8192 &&
              options.panel_height <= 8192,
          "render_chart", "panel size ", options.panel_width, "x", options.panel_height,
          " is outside 200x150 .. 8192x8192");
    check(options.columns >= 0, "render_chart", "columns must be >= 0, got ", options.columns);
    const int n = int(panels.size());
    const int cols = options.columns > 0 ? std::min(options.columns, n) : n;
    const int rows = (n + cols - 1) / cols;
    const int title_h = options.title.empty() ? 0 : 46;
    Raster r(cols * options.panel_width, rows * options.panel_height + title_h);
    if (!options.title.empty())
        r.text(r.width() / 2.0, 18, options.title, 2.6, kInk, TextAlign::Center);
    size_t palette_next = 0;
    for (int i = 0; i < n; ++i) {
        const double x0 = double(i % cols * options.panel_width), y0 = double(i / cols * options.panel_height + title_h);
        draw_panel(r, panels[size_t(i)], Rect{x0, y0, x0 + options.panel_width, y0 + options.panel_height},
                   palette_next);
        palette_next = 0;  // the same colours mean the same roles in every panel
    }
    return r.to_tensor();
}

void write_chart_png(const std::string& path, const std::vector<ChartPanel>& panels, const ChartOptions& options) {
    io::write_png(path, render_chart(panels, options));
}

void TrainingHistory::add_step(double x_in_epochs, double loss) {
    step_x.push_back(x_in_epochs);
    step_loss.push_back(loss);
}

void TrainingHistory::add_epoch(double epoch_number, double train, double val, double train_accuracy,
                                double val_accuracy) {
    epoch.push_back(epoch_number);
    train_loss.push_back(train);
    val_loss.push_back(val);
    train_acc.push_back(train_accuracy);
    val_acc.push_back(val_accuracy);
}

namespace {

// Bias-corrected exponential moving average (TensorBoard's smoothing) over a
// window of about 1/40 of the run, at least 5 steps; NaN steps are skipped and
// stay gaps.
std::vector<double> smoothed(const std::vector<double>& v) {
    const double window = std::max(5.0, double(v.size()) / 40.0);
    const double beta = 1.0 - 1.0 / window;
    std::vector<double> out(v.size(), NAN);
    double avg = 0, weight = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) continue;
        avg = beta * avg + (1 - beta) * v[i];
        weight = beta * weight + (1 - beta);
        out[i] = avg / weight;
    }
    return out;
}

// The first steps of a run often have losses several times the rest; scaled
// to them, the part worth reading is a flat line at the bottom. When the
// largest step loss towers over the 98th percentile (and the epoch values),
// the axis stops there and those first points run off the top.
std::optional<double> loss_axis_top(const TrainingHistory& h) {
    std::vector<double> steps;
    for (double v : h.step_loss)
        if (std::isfinite(v)) steps.push_back(v);
    if (steps.size() < 50) return std::nullopt;
    std::sort(steps.begin(), steps.end());
    double top = steps[size_t(double(steps.size() - 1) * 0.98)];
    for (const auto* v : {&h.train_loss, &h.val_loss})
        for (double x : *v)
            if (std::isfinite(x)) top = std::max(top, x);
    if (!(top > 0) || steps.back() <= 1.5 * top) return std::nullopt;
    return top * 1.15;
}

}  // namespace

std::vector<ChartPanel> training_panels(const TrainingHistory& h) {
    auto any_finite = [](const std::vector<double>& v) {
        return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
    };
    const Rgb train = palette_color(0), val = palette_color(1);
    ChartPanel loss;
    loss.title = "Loss";
    loss.x_label = "epoch";
    loss.y_label = "loss";
    if (!h.step_x.empty()) {
        // Step losses are noisy: a thin pale line behind the epoch means, and
        // once there are enough of them, their moving average over it.
        const bool smooth = h.step_loss.size() >= 30;
        ChartSeries steps(smooth ? "" : "train (per step)", h.step_x, h.step_loss, train);
        steps.line_width = 1.2;
        steps.opacity = 0.3;
        steps.markers = false;
        loss.series.push_back(steps);
        if (smooth) {
            ChartSeries avg("train (per step, smoothed)", h.step_x, smoothed(h.step_loss), train);
            avg.line_width = 1.6;
            avg.opacity = 0.8;
            avg.markers = false;
            loss.series.push_back(avg);
        }
        loss.x_min = std::min(0.0, *std::min_element(h.step_x.begin(), h.step_x.end()));
    }
    if (any_finite(h.train_loss)) loss.series.push_back({"train", h.epoch, h.train_loss, train});
    if (any_finite(h.val_loss)) loss.series.push_back({"validation", h.epoch, h.val_loss, val});
    loss.y_soft_max = loss_axis_top(h);
    std::vector<ChartPanel> panels{loss};

    if (any_finite(h.train_acc) || any_finite(h.val_acc)) {
        ChartPanel acc;
        acc.title = "Accuracy";
        acc.x_label = "epoch";
        acc.y_label = "accuracy";
        acc.x_min = loss.x_min;
        bool fractions = true;
        for (const auto* v : {&h.train_acc, &h.val_acc})
            for (double a : *v) fractions = fractions && !(std::isfinite(a) && (a < 0 || a > 1));
        acc.y_percent = fractions;
        if (any_finite(h.train_acc)) acc.series.push_back({"train", h.epoch, h.train_acc, train});
        if (any_finite(h.val_acc)) acc.series.push_back({"validation", h.epoch, h.val_acc, val});
        panels.push_back(acc);
    }
    // Whole epochs on the x axis when the run is short enough for them to be read.
    double x_hi = 0;
    for (double x : h.epoch) x_hi = std::max(x_hi, x);
    for (double x : h.step_x) x_hi = std::max(x_hi, x);
    for (auto& p : panels) p.integer_x = x_hi >= 2;
    return panels;
}

void write_training_chart(const std::string& path, const TrainingHistory& history, const std::string& title,
                          const ChartOptions& options) {
    check(!history.empty(), "write_training_chart", "'", path, "': the history has no steps and no epochs");
    ChartOptions o = options;
    if (o.title.empty()) o.title = title;
    write_chart_png(path, training_panels(history), o);
}

}  // namespace graft::transfer
