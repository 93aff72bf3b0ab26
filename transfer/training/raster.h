// Raster: the small drawing surface behind the training charts. An RGB8 pixel
// buffer with alpha-blended, anti-aliased primitives: rectangles with
// fractional edges, thick polylines (as capsules: coverage from the distance to
// each segment, taking the maximum per pixel so joints do not darken), filled
// dots, and text from stb_easy_font (its glyph quads filled with area coverage,
// so any scale is smooth), horizontal or rotated a quarter turn for y labels.
//
// Used by chart.cpp; public so other plots (a confusion-matrix heat map, an
// image grid with captions) can reuse it. Coordinates are pixels, x to the
// right, y down; (0, 0) is the top-left corner of the top-left pixel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace graft::transfer {

struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
};

struct Rect {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // x0 <= x1, y0 <= y1
    double width() const { return x1 - x0; }
    double height() const { return y1 - y0; }
};

enum class TextAlign { Left, Center, Right };

class Raster {
public:
    Raster(int width, int height, Rgb background = {255, 255, 255});

    int width() const { return width_; }
    int height() const { return height_; }
    Rgb pixel(int x, int y) const;

    // Everything drawn after this is cut to `clip` (the whole raster by default).
    void set_clip(const Rect& clip);
    void reset_clip();

    void fill_rect(const Rect& r, Rgb color, double opacity = 1.0);
    // A connected line through the points, `width` pixels thick. Non-finite
    // points break it into separate runs.
    void polyline(const std::vector<double>& xs, const std::vector<double>& ys, double width, Rgb color,
                  double opacity = 1.0);
    void line(double x0, double y0, double x1, double y1, double width, Rgb color, double opacity = 1.0);
    void dot(double x, double y, double radius, Rgb color, double opacity = 1.0);

    // Text is ASCII (anything else prints as '?'); '\n' starts a new line.
    // `scale` 1 is stb_easy_font's native size: glyphs about 7 px tall, 12 px
    // lines. (x, y) is the top of the first line, aligned as asked.
    void text(double x, double y, const std::string& s, double scale, Rgb color, TextAlign align = TextAlign::Left);
    // Rotated a quarter turn counter-clockwise (reads bottom to top), centred on (cx, cy).
    void text_vertical(double cx, double cy, const std::string& s, double scale, Rgb color);
    static double text_width(const std::string& s, double scale);
    static double text_height(const std::string& s, double scale);  // cap height of one line: 7 * scale

    // uint8 [H, W, 3], ready for io::write_png.
    Tensor to_tensor() const;

private:
    // Coverage in [0, 1] per pixel of the clip box, blended once per primitive.
    struct Coverage {
        int x0 = 0, y0 = 0, w = 0, h = 0;
        std::vector<float> a;
        float& at(int x, int y) { return a[size_t((y - y0) * w + (x - x0))]; }
    };
    Coverage coverage_for(double x0, double y0, double x1, double y1) const;
    void add_capsule(Coverage& c, double ax, double ay, double bx, double by, double half_width) const;
    void add_rect(Coverage& c, const Rect& r) const;
    void blend(const Coverage& c, Rgb color, double opacity);
    std::vector<Rect> glyph_rects(double x, double y, const std::string& s, double scale) const;

    int width_, height_;
    std::vector<uint8_t> rgb_;
    Rect clip_;
};

}  // namespace graft::transfer
