// Confusion-matrix heat map on the Raster.
#include "transfer/training/confusion_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "io/image/image_write.h"
#include "transfer/training/raster.h"

namespace graft::transfer {
namespace {

constexpr Rgb kInk{34, 34, 34};
constexpr Rgb kLabel{68, 68, 68};
constexpr Rgb kGrid{255, 255, 255};

// A sequential blue scale (light to dark, like matplotlib's "Blues"), by
// linear interpolation between five stops.
Rgb shade(double t) {
    static constexpr Rgb kStops[5] = {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4.0;
    const int i = std::min(3, int(t));
    const double f = t - i;
    auto mix = [f](uint8_t a, uint8_t b) { return uint8_t(std::lround(a + (b - a) * f)); };
    return {mix(kStops[i].r, kStops[i + 1].r), mix(kStops[i].g, kStops[i + 1].g), mix(kStops[i].b, kStops[i + 1].b)};
}

std::string cut(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

std::string percent(double v) {
    if (std::isnan(v)) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
    return buf;
}

}  // namespace

Tensor render_confusion_matrix(const ClassificationMetrics& m, const ConfusionChartOptions& options) {
    const int64_t c = m.num_classes();
    check(options.cell == 0 || (options.cell >= 4 && options.cell <= 256), "render_confusion_matrix",
          "cell must be 0 (automatic) or 4..256 pixels, got ", options.cell);
    const double cell = options.cell ? options.cell : std::clamp(640.0 / double(c), 12.0, 64.0);
    check(cell * double(c) <= 12000, "render_confusion_matrix", c, " classes at ", cell,
          " pixels per cell do not fit an image; pass a smaller ConfusionChartOptions::cell");
    const double name_scale = cell >= 24 ? 1.5 : 1.0, count_scale = cell >= 48 ? 1.5 : 1.2;

    std::vector<std::string> names;
    double name_w = 0;
    for (const auto& n : m.class_names()) {
        names.push_back(cut(n, 24));
        name_w = std::max(name_w, Raster::text_width(names.back(), name_scale));
    }
    const double grid = cell * double(c);
    const double left = 40 + name_w + 12, top = 64 + name_w + 12;  // room for row and column names
    const double acc_w = Raster::text_width("100.0%", name_scale) + 24;
    char title[160];
    std::snprintf(title, sizeof title, "%s (acc %s, %lld samples)", cut(options.title, 80).c_str(),
                  percent(m.accuracy()).c_str(), (long long)m.count());
    const double title_w = Raster::text_width(title, 2.0) + 40;
    const int width = int(std::ceil(std::max(left + grid + acc_w + 24, title_w)));
    const int height = int(std::ceil(top + grid + 24));
    Raster r(width, height);
    r.text(r.width() / 2.0, 16, title, 2.0, kInk, TextAlign::Center);
    r.text(left + grid / 2, 44, "predicted", 1.6, kLabel, TextAlign::Center);
    r.text_vertical(16, top + grid / 2, "true", 1.6, kLabel);
    r.text(left + grid + 12, top - 18, "accuracy", name_scale, kLabel);

    const std::vector<double> recall = m.per_class_accuracy();
    for (int64_t t = 0; t < c; ++t) {
        int64_t row_total = 0;
        for (int64_t p = 0; p < c; ++p) row_total += m.confusion(t, p);
        const double y = top + cell * double(t);
        const double text_y = y + cell / 2 - Raster::text_height("", name_scale) / 2;
        r.text(left - 10, text_y, names[size_t(t)], name_scale, kLabel, TextAlign::Right);
        r.text(left + grid + 12, text_y, percent(recall[size_t(t)]), name_scale, kLabel);
        for (int64_t p = 0; p < c; ++p) {
            const int64_t n = m.confusion(t, p);
            const double frac = row_total ? double(n) / double(row_total) : 0.0;
            const double x = left + cell * double(p);
            r.fill_rect(Rect{x, y, x + cell, y + cell}, shade(frac));
            if (options.counts && cell >= 30) {
                const Rgb ink = frac > 0.5 ? Rgb{255, 255, 255} : kInk;
                r.text(x + cell / 2, y + cell / 2 - Raster::text_height("", count_scale) / 2, std::to_string(n),
                       count_scale, ink, TextAlign::Center);
            }
        }
    }
    for (int64_t p = 0; p < c; ++p)
        r.text_vertical(left + cell * (double(p) + 0.5), top - 10 - Raster::text_width(names[size_t(p)], name_scale) / 2,
                        names[size_t(p)], name_scale, kLabel);
    // Thin white lines between cells keep neighbouring shades apart.
    if (cell >= 10)
        for (int64_t k = 1; k < c; ++k) {
            r.line(left + cell * double(k), top, left + cell * double(k), top + grid, 1.0, kGrid);
            r.line(left, top + cell * double(k), left + grid, top + cell * double(k), 1.0, kGrid);
        }
    return r.to_tensor();
}

void write_confusion_png(const std::string& path, const ClassificationMetrics& metrics,
                         const ConfusionChartOptions& options) {
    io::write_png(path, render_confusion_matrix(metrics, options));
}

}  // namespace graft::transfer
