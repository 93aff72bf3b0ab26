// Charts of a training run as PNG files: loss and accuracy curves side by side,
// with axes, numbered ticks, a light grid, legends and titles, drawn with
// anti-aliased lines (transfer/training/raster.h) and written through
// io::write_png. Meant to be looked at: open the PNG instead of reading logs.
//
// The usual case, a TrainingHistory filled by the loop:
//
//   transfer::TrainingHistory history;
//   ... each step:   history.add_step(epoch - 1 + double(step) / steps, loss);
//   ... each epoch:  history.add_epoch(epoch, train_loss, val_loss, train_acc, val_acc);
//   transfer::write_training_chart("runs/a/curves.png", history, "ResNet-18 on flowers");
//
// gives two panels: "Loss" (steps as a thin light line, epoch means of train
// and validation as bold lines with dots) and "Accuracy" (train and validation,
// shown in percent). Leave a value NaN to omit it (e.g. no train accuracy).
//
// Any other plot is a list of panels, each with its series:
//
//   transfer::ChartPanel lr;                        // an LR-finder curve
//   lr.title = "LR finder"; lr.x_label = "learning rate"; lr.y_label = "loss";
//   lr.log_x = true;
//   lr.series.push_back({"loss", lrs, losses});
//   lr.x_marks.push_back({3e-4, "suggested 3e-4"});
//   transfer::write_chart_png("lr_finder.png", {lr});
//
// Panels are laid out left to right (ChartOptions::columns per row). Axis
// ranges cover the finite data and snap to "nice" tick steps (1, 2, 5 x 10^k),
// or powers of ten on a log axis; points that are NaN, infinite, or not
// positive on a log axis are left out (the line breaks there).
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "transfer/training/raster.h"

namespace graft::transfer {

struct ChartSeries {
    ChartSeries() = default;
    ChartSeries(std::string name, std::vector<double> x, std::vector<double> y, std::optional<Rgb> color = {})
        : name(std::move(name)), x(std::move(x)), y(std::move(y)), color(color) {}

    std::string name;            // shown in the legend (empty: not listed)
    std::vector<double> x, y;    // same length
    std::optional<Rgb> color;    // default: the next colour of the palette
    double line_width = 2.5;     // pixels; 0 draws no line (dots only)
    double opacity = 1.0;
    std::optional<bool> markers; // dots at the points; default: when at most 40 points
};

// A vertical reference line: a suggested learning rate, the best epoch.
struct ChartMark {
    double x = 0;
    std::string label;  // written beside the line, at the top of the plot
    Rgb color{96, 96, 96};
};

struct ChartPanel {
    std::string title, x_label, y_label;
    std::vector<ChartSeries> series;
    std::vector<ChartMark> x_marks;  // dashed vertical lines
    bool log_x = false, log_y = false;
    std::optional<double> x_min, x_max, y_min, y_max;  // fixed limits instead of the data's
    // y values above this do not stretch the axis (they run off the top); the
    // axis still ends on a tick. training_panels sets it for early loss spikes.
    std::optional<double> y_soft_max;
    bool y_percent = false;  // y values are fractions, ticks read "85%"
    bool integer_x = false;  // x ticks at whole numbers only (epochs)
    bool legend = true;
};

struct ChartOptions {
    int panel_width = 640, panel_height = 440;  // pixels per panel
    int columns = 0;                            // panels per row; 0: all in one row
    std::string title;                          // over the whole figure
};

// The figure as uint8 [H, W, 3].
Tensor render_chart(const std::vector<ChartPanel>& panels, const ChartOptions& options = {});
void write_chart_png(const std::string& path, const std::vector<ChartPanel>& panels, const ChartOptions& options = {});

// The colours series take in turn (matplotlib's tab10 order: blue, orange,
// green, red, purple, ...).
Rgb palette_color(size_t index);

// What a training loop records for write_training_chart. x is in epochs:
// add_step's position is fractional (epoch 2 halfway: 1.5), add_epoch's is the
// epoch number (1-based), so steps and epochs share the axis.
struct TrainingHistory {
    std::vector<double> step_x, step_loss;
    std::vector<double> epoch, train_loss, val_loss, train_acc, val_acc;

    void add_step(double x_in_epochs, double loss);
    void add_epoch(double epoch_number, double train_loss, double val_loss, double train_acc = NAN,
                   double val_acc = NAN);
    bool empty() const { return step_x.empty() && epoch.empty(); }
};

// The two panels described above (the accuracy panel only when some accuracy
// is known).
std::vector<ChartPanel> training_panels(const TrainingHistory& history);
void write_training_chart(const std::string& path, const TrainingHistory& history, const std::string& title = "",
                          const ChartOptions& options = {});

}  // namespace graft::transfer
