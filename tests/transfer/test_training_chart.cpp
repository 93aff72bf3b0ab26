// transfer/training/chart (and its axis and raster helpers): tick rules, a
// training chart that renders, decodes as a PNG of the right size and holds the
// curve colours, LR-finder log axes, and the errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "graft.h"
#include "transfer/training/chart.h"
#include "transfer/training/chart_axis.h"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

using namespace graft;
using namespace graft::transfer;
using Catch::Matchers::Contains;

namespace {

int64_t count_color(const Tensor& image, Rgb c) {
    std::vector<uint8_t> px = image.to_vector<uint8_t>();
    int64_t n = 0;
    for (size_t i = 0; i + 2 < px.size(); i += 3) n += px[i] == c.r && px[i + 1] == c.g && px[i + 2] == c.b;
    return n;
}

TrainingHistory sample_history() {
    TrainingHistory h;
    for (int e = 1; e <= 5; ++e) {
        for (int s = 1; s <= 10; ++s) h.add_step(e - 1 + s / 10.0, 2.0 / (e + s / 10.0));
        h.add_epoch(e, 2.0 / e, 2.2 / e, 1 - 0.5 / e, 0.95 - 0.5 / e);
    }
    return h;
}

}  // namespace

TEST_CASE("make_axis: nice linear ticks, percent, integer, fixed limits", "[transfer][chart]") {
    Axis a = make_axis(0.13, 0.87, AxisSpec{});
    CHECK(a.lo == 0.0);
    CHECK(a.hi == Approx(1.0));
    CHECK(a.labels == std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1.0"});
    CHECK(a.to_pixel(0.5, 100, 500) == Approx(300));

    AxisSpec pct;
    pct.percent = true;
    CHECK(make_axis(0.34, 0.9, pct).labels == std::vector<std::string>{"20%", "40%", "60%", "80%", "100%"});

    AxisSpec whole;
    whole.integer = true;
    CHECK(make_axis(1, 3, whole).ticks == std::vector<double>{1, 2, 3});
    CHECK(make_axis(4, 4, whole).ticks == std::vector<double>{3, 4, 5});  // one value gets room

    AxisSpec fixed;
    fixed.min = 0.0;
    fixed.max = 1.0;
    Axis f = make_axis(0.4, 0.45, fixed);
    CHECK((f.lo == 0.0 && f.hi == 1.0));

    Axis none = make_axis(NAN, NAN, AxisSpec{});
    CHECK((none.lo == 0.0 && none.hi == 1.0));
    CHECK(make_axis(-250, 1250, AxisSpec{}).labels.front() == "-500");
}

TEST_CASE("make_axis: log axes span decades", "[transfer][chart]") {
    AxisSpec log;
    log.log = true;
    Axis a = make_axis(3e-7, 0.8, log);
    CHECK(a.lo == Approx(1e-7));
    CHECK(a.hi == Approx(1.0));
    CHECK(a.labels == std::vector<std::string>{"1e-7", "1e-6", "1e-5", "1e-4", "0.001", "0.01", "0.1", "1"});
    CHECK(a.to_pixel(1e-4, 0, 700) == Approx(300));
    CHECK(std::isnan(a.to_pixel(0.0, 0, 700)));
    // Two decades or less: 1, 2, 5 in each.
    CHECK(make_axis(0.15, 8, log).labels == std::vector<std::string>{"0.1", "0.2", "0.5", "1", "2", "5", "10"});
}

TEST_CASE("render_chart: a training chart with curves in the palette colours", "[transfer][chart]") {
    ChartOptions opt;
    opt.title = "test run";
    std::vector<ChartPanel> panels = training_panels(sample_history());
    REQUIRE(panels.size() == 2);
    CHECK(panels[0].series.size() == 4);  // steps, smoothed steps, train, validation
    CHECK(panels[0].series[1].name == "train (per step, smoothed)");
    CHECK(panels[0].series[1].y[0] == Approx(panels[0].series[0].y[0]));  // bias-corrected from the start
    CHECK(panels[1].y_percent);
    Tensor img = render_chart(panels, opt);
    CHECK(img.dtype() == DType::UInt8);
    CHECK(img.shape() == Shape{440 + 46, 2 * 640, 3});
    // Solid curve pixels of both colours (line interiors are fully covered).
    CHECK(count_color(img, palette_color(0)) > 300);
    CHECK(count_color(img, palette_color(1)) > 300);
    // Dark text and tick labels exist.
    CHECK(count_color(img, Rgb{68, 68, 68}) > 200);
}

TEST_CASE("write_training_chart writes a PNG that decodes to the figure", "[transfer][chart]") {
    namespace fs = std::filesystem;
    const fs::path path = fs::temp_directory_path() / ("graft_chart_" + std::to_string(::getpid()) + ".png");
    write_training_chart(path.string(), sample_history(), "run");
    int w = 0, h = 0, c = 0;
    unsigned char* px = stbi_load(path.string().c_str(), &w, &h, &c, 3);
    REQUIRE(px != nullptr);
    CHECK((w == 1280 && h == 486 && c == 3));
    Tensor direct = render_chart(training_panels(sample_history()), ChartOptions{640, 440, 0, "run"});
    CHECK(std::vector<uint8_t>(px, px + size_t(w) * h * 3) == direct.to_vector<uint8_t>());
    stbi_image_free(px);
    fs::remove(path);
}

TEST_CASE("render_chart: log-x LR finder panel, gaps, loss-only history", "[transfer][chart]") {
    ChartPanel lr;
    lr.title = "LR finder";
    lr.log_x = true;
    std::vector<double> xs, ys;
    for (int i = 0; i <= 60; ++i) {
        xs.push_back(1e-6 * std::pow(10.0, i / 10.0));
        ys.push_back(i == 30 ? NAN : 2.0 - i / 60.0);
    }
    xs[0] = 0.0;  // not drawable on a log axis: skipped, not an error
    lr.series.push_back(ChartSeries("loss", xs, ys, Rgb{200, 0, 0}));
    Tensor img = render_chart({lr});
    CHECK(img.shape() == Shape{440, 640, 3});
    CHECK(count_color(img, Rgb{200, 0, 0}) > 200);

    TrainingHistory h;
    h.add_epoch(1, 0.9, NAN);
    CHECK(training_panels(h).size() == 1);  // no accuracy: one panel
    CHECK_NOTHROW(render_chart(training_panels(h)));
    ChartPanel empty;
    empty.title = "nothing yet";
    CHECK_NOTHROW(render_chart({empty}));
}

TEST_CASE("render_chart errors", "[transfer][chart]") {
    CHECK_THROWS_WITH(render_chart({}), Contains("no panels"));
    ChartPanel bad;
    bad.title = "p";
    bad.series.push_back(ChartSeries("s", {1, 2, 3}, {1, 2}));
    CHECK_THROWS_WITH(render_chart({bad}), Contains("'s'") && Contains("3 x values and 2 y values"));
    ChartOptions tiny;
    tiny.panel_width = 50;
    CHECK_THROWS_WITH(render_chart({ChartPanel{}}, tiny), Contains("50x440"));
    CHECK_THROWS_WITH(write_training_chart("x.png", TrainingHistory{}), Contains("x.png"));
}

TEST_CASE("Raster draws text and lines with anti-aliased edges", "[transfer][chart]") {
    Raster r(120, 40);
    r.text(4.5, 4.25, "Loss 0.25", 2.0, Rgb{0, 0, 0});  // off the pixel grid: edges partly covered
    CHECK(Raster::text_width("Loss 0.25", 2.0) > 60);
    int64_t dark = 0, grey = 0;
    for (int y = 0; y < 40; ++y)
        for (int x = 0; x < 120; ++x) {
            const Rgb p = r.pixel(x, y);
            dark += p.r == 0;
            grey += p.r > 0 && p.r < 255;
        }
    CHECK(dark > 50);
    CHECK(grey > 20);
    r.line(0, 35.3, 119, 30.1, 2.0, Rgb{0, 0, 255});
    CHECK(r.pixel(60, 33).b == 255);
    CHECK(r.pixel(60, 33).r < 255);
    CHECK_THROWS(r.pixel(120, 0));
    CHECK_THROWS(Raster(0, 10));
}

TEST_CASE("training_panels keeps early loss spikes from flattening the loss axis", "[transfer][chart]") {
    TrainingHistory h;
    for (int s = 0; s < 100; ++s) h.add_step(s / 100.0, s < 2 ? 10.0 : 1.0 + 0.001 * s);
    h.add_epoch(1, 1.2, 1.1);
    std::vector<ChartPanel> p = training_panels(h);
    REQUIRE(p[0].y_soft_max.has_value());
    CHECK(*p[0].y_soft_max == Approx(1.2 * 1.15));  // the epoch mean is the largest kept value
    h.step_loss[0] = h.step_loss[1] = 1.5;           // no spike: the axis covers everything
    CHECK(!training_panels(h)[0].y_soft_max.has_value());
}

TEST_CASE("x_marks draw dashed reference lines, marks off the axis are skipped", "[transfer][chart]") {
    ChartPanel p;
    p.log_x = true;
    p.series.push_back(ChartSeries("loss", {1e-5, 1e-3, 1e-1}, {2.0, 1.0, 3.0}));
    p.x_marks.push_back({1e-3, "suggested", Rgb{0, 150, 0}});
    p.x_marks.push_back({-1.0, "not on a log axis", Rgb{150, 0, 150}});
    Tensor img = render_chart({p});
    CHECK(count_color(img, Rgb{0, 150, 0}) > 100);
    CHECK(count_color(img, Rgb{150, 0, 150}) == 0);
}

TEST_CASE("render_chart survives extreme values: huge outliers, narrow ranges at large magnitudes", "[transfer][chart]") {
    ChartPanel p;
    p.y_max = 2.0;
    p.series.push_back(ChartSeries("diverged", {0, 1, 2, 3}, {1.0, 1e30, -1e300, 0.5}));
    CHECK_NOTHROW(render_chart({p}));
    ChartPanel narrow;
    narrow.series.push_back(ChartSeries("flat", {0, 1}, {1e30, 1e30 * (1 + 1e-15)}));
    CHECK_NOTHROW(render_chart({narrow}));
    ChartPanel wide;
    wide.series.push_back(ChartSeries("wide", {0, 1}, {-1e308, 1e308}));
    CHECK_NOTHROW(render_chart({wide}));
    Axis a = make_axis(1e10, 1e10 + 1e-3, AxisSpec{});
    CHECK(a.hi > a.lo);
    CHECK(!a.ticks.empty());
}
