// Raster: coverage-based anti-aliasing. Each primitive computes a coverage mask
// over its bounding box (clipped), then blends its colour once, so overlapping
// pieces of one primitive (polyline joints, touching glyph strokes) never
// blend twice.
#include "transfer/training/raster.h"

#include <algorithm>
#include <cmath>

#include "core/ops/creation.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

namespace graft::transfer {
namespace {

// stb_easy_font indexes a table by (char - 32): keep to printable ASCII.
std::string printable(const std::string& s) {
    std::string out = s;
    for (char& c : out)
        if (c != '\n' && (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126)) c = '?';
    return out;
}

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines(1);
    for (char c : s) {
        if (c == '\n') lines.emplace_back();
        else lines.back() += c;
    }
    return lines;
}

constexpr double kLineAdvance = 12.0;  // stb_easy_font's line height
constexpr double kCapHeight = 7.0;

// A pixel index from a coordinate that may be far outside the raster (a
// point way off the axis): converting an out-of-range double to int is
// undefined, so clamp first.
int pixel_floor(double v) { return int(std::clamp(std::floor(v), -1e8, 1e8)); }
int pixel_ceil(double v) { return int(std::clamp(std::ceil(v), -1e8, 1e8)); }

double native_width(const std::string& line) {
    std::string copy = printable(line);
    return copy.empty() ? 0.0 : double(stb_easy_font_width(copy.data()));
}

}  // namespace

Raster::Raster(int width, int height, Rgb background) : width_(width), height_(height) {
    check(width >= 1 && height >= 1 && width <= 16384 && height <= 16384, "Raster", "size ", width, "x", height,
          " is outside 1..16384");
    rgb_.resize(size_t(width) * size_t(height) * 3);
    for (size_t i = 0; i < rgb_.size(); i += 3) {
        rgb_[i] = background.r;
        rgb_[i + 1] = background.g;
        rgb_[i + 2] = background.b;
    }
    reset_clip();
}

Rgb Raster::pixel(int x, int y) const {
    check(x >= 0 && x < width_ && y >= 0 && y < height_, "Raster::pixel", "(", x, ", ", y, ") is outside ", width_,
          "x", height_);
    const uint8_t* p = &rgb_[(size_t(y) * size_t(width_) + size_t(x)) * 3];
    return {p[0], p[1], p[2]};
}

void Raster::set_clip(const Rect& clip) {
    clip_ = Rect{std::max(0.0, clip.x0), std::max(0.0, clip.y0), std::min(double(width_), clip.x1),
                 std::min(double(height_), clip.y1)};
}

void Raster::reset_clip() { clip_ = Rect{0, 0, double(width_), double(height_)}; }

Raster::Coverage Raster::coverage_for(double x0, double y0, double x1, double y1) const {
    Coverage c;
    const double cx0 = std::max(x0, clip_.x0), cy0 = std::max(y0, clip_.y0);
    const double cx1 = std::min(x1, clip_.x1), cy1 = std::min(y1, clip_.y1);
    if (!(cx1 > cx0 && cy1 > cy0)) return c;  // also false for NaN
    c.x0 = int(std::floor(cx0));
    c.y0 = int(std::floor(cy0));
    c.w = int(std::ceil(cx1)) - c.x0;
    c.h = int(std::ceil(cy1)) - c.y0;
    c.a.assign(size_t(c.w) * size_t(c.h), 0.0f);
    return c;
}

void Raster::add_capsule(Coverage& c, double ax, double ay, double bx, double by, double half_width) const {
    const double reach = half_width + 1.0;
    const int px0 = std::max(c.x0, pixel_floor(std::min(ax, bx) - reach));
    const int px1 = std::min(c.x0 + c.w, pixel_ceil(std::max(ax, bx) + reach));
    const int py0 = std::max(c.y0, pixel_floor(std::min(ay, by) - reach));
    const int py1 = std::min(c.y0 + c.h, pixel_ceil(std::max(ay, by) + reach));
    const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    for (int y = py0; y < py1; ++y)
        for (int x = px0; x < px1; ++x) {
            // Distance from the pixel centre to the segment; coverage falls off
            // linearly over one pixel at the edge (a box-filter approximation).
            const double qx = x + 0.5 - ax, qy = y + 0.5 - ay;
            const double t = len2 > 0 ? std::clamp((qx * dx + qy * dy) / len2, 0.0, 1.0) : 0.0;
            const double ex = qx - t * dx, ey = qy - t * dy;
            const double cov = std::clamp(half_width + 0.5 - std::sqrt(ex * ex + ey * ey), 0.0, 1.0);
            float& a = c.at(x, y);
            a = std::max(a, float(cov));
        }
}

void Raster::add_rect(Coverage& c, const Rect& r) const {
    const int px0 = std::max(c.x0, pixel_floor(r.x0)), px1 = std::min(c.x0 + c.w, pixel_ceil(r.x1));
    const int py0 = std::max(c.y0, pixel_floor(r.y0)), py1 = std::min(c.y0 + c.h, pixel_ceil(r.y1));
    for (int y = py0; y < py1; ++y) {
        const double oy = std::min(y + 1.0, r.y1) - std::max(double(y), r.y0);
        for (int x = px0; x < px1; ++x) {
            const double ox = std::min(x + 1.0, r.x1) - std::max(double(x), r.x0);
            float& a = c.at(x, y);
            a = std::min(1.0f, a + float(std::max(0.0, ox) * std::max(0.0, oy)));
        }
    }
}

void Raster::blend(const Coverage& c, Rgb color, double opacity) {
    const float op = float(std::clamp(opacity, 0.0, 1.0));
    for (int y = 0; y < c.h; ++y)
        for (int x = 0; x < c.w; ++x) {
            const float a = c.a[size_t(y * c.w + x)] * op;
            if (a <= 0.0f) continue;
            uint8_t* p = &rgb_[(size_t(c.y0 + y) * size_t(width_) + size_t(c.x0 + x)) * 3];
            p[0] = uint8_t(std::lround(p[0] + (color.r - p[0]) * a));
            p[1] = uint8_t(std::lround(p[1] + (color.g - p[1]) * a));
            p[2] = uint8_t(std::lround(p[2] + (color.b - p[2]) * a));
        }
}

void Raster::fill_rect(const Rect& r, Rgb color, double opacity) {
    Coverage c = coverage_for(r.x0, r.y0, r.x1, r.y1);
    if (c.a.empty()) return;
    add_rect(c, r);
    blend(c, color, opacity);
}

void Raster::polyline(const std::vector<double>& xs, const std::vector<double>& ys, double width, Rgb color,
                      double opacity) {
    check(xs.size() == ys.size(), "Raster::polyline", "got ", xs.size(), " x values and ", ys.size(), " y values");
    const double half = std::max(0.25, width / 2);
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < xs.size(); ++i)
        if (std::isfinite(xs[i]) && std::isfinite(ys[i])) {
            x0 = std::min(x0, xs[i]), x1 = std::max(x1, xs[i]);
            y0 = std::min(y0, ys[i]), y1 = std::max(y1, ys[i]);
        }
    Coverage c = coverage_for(x0 - half - 1, y0 - half - 1, x1 + half + 1, y1 + half + 1);
    if (c.a.empty()) return;
    for (size_t i = 0; i < xs.size(); ++i) {
        const bool here = std::isfinite(xs[i]) && std::isfinite(ys[i]);
        if (!here) continue;
        const bool prev = i > 0 && std::isfinite(xs[i - 1]) && std::isfinite(ys[i - 1]);
        const bool next = i + 1 < xs.size() && std::isfinite(xs[i + 1]) && std::isfinite(ys[i + 1]);
        if (prev) add_capsule(c, xs[i - 1], ys[i - 1], xs[i], ys[i], half);
        else if (!next) add_capsule(c, xs[i], ys[i], xs[i], ys[i], half);  // an isolated point stays visible
    }
    blend(c, color, opacity);
}

void Raster::line(double x0, double y0, double x1, double y1, double width, Rgb color, double opacity) {
    polyline({x0, x1}, {y0, y1}, width, color, opacity);
}

void Raster::dot(double x, double y, double radius, Rgb color, double opacity) {
    Coverage c = coverage_for(x - radius - 1, y - radius - 1, x + radius + 1, y + radius + 1);
    if (c.a.empty()) return;
    add_capsule(c, x, y, x, y, radius);
    blend(c, color, opacity);
}

std::vector<Rect> Raster::glyph_rects(double x, double y, const std::string& s, double scale) const {
    std::string text = printable(s);
    std::vector<Rect> rects;
    if (text.empty()) return rects;
    // About 270 bytes per character, per stb_easy_font's notes; be generous.
    std::vector<char> buffer(text.size() * 600 + 64);
    const int quads = stb_easy_font_print(0, 0, text.data(), nullptr, buffer.data(), int(buffer.size()));
    for (int q = 0; q < quads; ++q) {
        double qx0 = INFINITY, qy0 = INFINITY, qx1 = -INFINITY, qy1 = -INFINITY;
        for (int v = 0; v < 4; ++v) {
            const float* xy = reinterpret_cast<const float*>(buffer.data() + (q * 4 + v) * 16);
            qx0 = std::min(qx0, double(xy[0])), qx1 = std::max(qx1, double(xy[0]));
            qy0 = std::min(qy0, double(xy[1])), qy1 = std::max(qy1, double(xy[1]));
        }
        rects.push_back(Rect{x + qx0 * scale, y + qy0 * scale, x + qx1 * scale, y + qy1 * scale});
    }
    return rects;
}

double Raster::text_width(const std::string& s, double scale) {
    double w = 0;
    for (const auto& line : split_lines(s)) w = std::max(w, native_width(line));
    return w * scale;
}

double Raster::text_height(const std::string& /*s*/, double scale) { return kCapHeight * scale; }

void Raster::text(double x, double y, const std::string& s, double scale, Rgb color, TextAlign align) {
    check(scale > 0 && scale <= 64, "Raster::text", "scale must be in (0, 64], got ", scale);
    std::vector<std::string> lines = split_lines(s);
    std::vector<Rect> rects;
    for (size_t i = 0; i < lines.size(); ++i) {
        const double w = native_width(lines[i]) * scale;
        const double lx = align == TextAlign::Left ? x : align == TextAlign::Center ? x - w / 2 : x - w;
        std::vector<Rect> part = glyph_rects(lx, y + double(i) * kLineAdvance * scale, lines[i], scale);
        rects.insert(rects.end(), part.begin(), part.end());
    }
    if (rects.empty()) return;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (const Rect& r : rects) x0 = std::min(x0, r.x0), y0 = std::min(y0, r.y0), x1 = std::max(x1, r.x1), y1 = std::max(y1, r.y1);
    Coverage c = coverage_for(x0, y0, x1, y1);
    if (c.a.empty()) return;
    for (const Rect& r : rects) add_rect(c, r);
    blend(c, color, 1.0);
}

void Raster::text_vertical(double cx, double cy, const std::string& s, double scale, Rgb color) {
    check(scale > 0 && scale <= 64, "Raster::text_vertical", "scale must be in (0, 64], got ", scale);
    const std::string line = split_lines(s).front();
    const double w = native_width(line) * scale, h = kCapHeight * scale;
    // Text coordinates (u right, v down) turn a quarter counter-clockwise:
    // u runs up the screen from the bottom, v runs right from the left.
    const double left = cx - h / 2, bottom = cy + w / 2;
    Coverage c = coverage_for(left - scale, bottom - w - 1, left + h + 2 * scale, bottom + 1);
    if (c.a.empty()) return;
    for (const Rect& r : glyph_rects(0, 0, line, scale)) add_rect(c, Rect{left + r.y0, bottom - r.x1, left + r.y1, bottom - r.x0});
    blend(c, color, 1.0);
}

Tensor Raster::to_tensor() const { return from_vector(rgb_, {int64_t(height_), int64_t(width_), 3}); }

}  // namespace graft::transfer
