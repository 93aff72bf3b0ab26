// transfer/training/confusion_chart: the heat map's cells carry the row
// fractions' shades, many classes still render, and bad options are refused.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "graft.h"
#include "transfer/training/confusion_chart.h"
#include "transfer/training/raster.h"

using namespace graft;
using namespace graft::transfer;

namespace {

bool has_pixel(const Tensor& img, Rgb c) {
    std::vector<uint8_t> px = img.to_vector<uint8_t>();
    for (size_t i = 0; i + 2 < px.size(); i += 3)
        if (px[i] == c.r && px[i + 1] == c.g && px[i + 2] == c.b) return true;
    return false;
}

}  // namespace

TEST_CASE("render_confusion_matrix shades cells by row fraction", "[transfer][chart]") {
    ClassificationMetrics m(3, {"cat", "dog", "bird"});
    // cat: 2 of 2 right (fraction 1: the darkest shade); dog: 0 of 1 right.
    m.update_predictions(from_vector<int64_t>({0, 0, 2}), from_vector<int64_t>({0, 0, 1}));
    Tensor img = render_confusion_matrix(m);
    CHECK(img.dtype() == DType::UInt8);
    CHECK(img.dim() == 3);
    CHECK(img.size(2) == 3);
    CHECK(has_pixel(img, Rgb{8, 48, 107}));     // a full row
    CHECK(has_pixel(img, Rgb{247, 251, 255}));  // empty cells
    CHECK(has_pixel(img, Rgb{255, 255, 255}));  // count text on the dark cell, background

    ConfusionChartOptions o;
    o.cell = 20;
    o.counts = false;
    Tensor small = render_confusion_matrix(m, o);
    CHECK(small.size(0) < img.size(0));
}

TEST_CASE("render_confusion_matrix with many classes and a PNG file", "[transfer][chart]") {
    ClassificationMetrics m(100);
    std::vector<int64_t> labels(1000);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int64_t(i % 100);
    m.update_predictions(from_vector(labels), from_vector(labels));
    Tensor img = render_confusion_matrix(m);
    CHECK(img.size(1) > 1200);  // 100 cells of 12 pixels, plus names
    namespace fs = std::filesystem;
    const fs::path path = fs::temp_directory_path() / ("graft_confusion_" + std::to_string(::getpid()) + ".png");
    write_confusion_png(path.string(), m);
    CHECK(fs::file_size(path) > 1000);
    fs::remove(path);
    ConfusionChartOptions bad;
    bad.cell = 2;
    CHECK_THROWS_WITH(render_confusion_matrix(m, bad), Catch::Matchers::Contains("cell"));
    bad.cell = 200;  // 100 classes x 200 pixels
    CHECK_THROWS_WITH(render_confusion_matrix(m, bad), Catch::Matchers::Contains("100 classes"));
}
