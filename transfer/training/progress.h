// ProgressBar: what a training loop prints while it runs. Epoch i/n, step j/m,
// the epoch's running mean loss, extra values you pass, samples per second and
// the time left.
//
//   transfer::ProgressBar bar(epochs, batches_per_epoch);   // prints to stdout
//   for (int64_t e = 1; e <= epochs; ++e) {
//       bar.start_epoch(e);
//       for (auto& [x, y] : batches) {
//           ...                                             // forward, backward, step
//           bar.step(loss.item<double>(), x.size(0), {{"lr", lr}});
//       }
//       bar.end_epoch({{"val_loss", val.mean_loss()}, {"val_acc", val.accuracy()}});
//   }
//
// On a terminal (isatty on the chosen FILE*) one line is redrawn in place with
// '\r' at most every `redraw_seconds`:
//   epoch 2/10 [#########...........]  412/938  loss 0.4321  lr 0.001  5123 samples/s  ETA 0:12
// Elsewhere (a log file, CI, a pipe) plain lines are printed instead, every
// `plain_every_steps` steps (default: about ten per epoch) or after
// `plain_every_seconds`, whichever comes first:
//   epoch 2/10 step 412/938 loss 0.4321 lr 0.001 5123 samples/s eta 0:12
// end_epoch() always prints a final line with the epoch's time, the values it
// was given, and (before the last epoch) the time the remaining epochs should
// take at the mean pace of those finished (from start_epoch to end_epoch):
//   epoch 2/10 done in 0:31 loss 0.4107 val_loss 0.3811 val_acc 0.879 30322 samples/s eta 4:08
//
// "loss" is the mean of the step losses of the epoch so far, weighted by batch
// size, so at the end it is the epoch's training loss. Throughput and ETA use
// the time since start_epoch (the first step's time included). ETA is that of
// the epoch; when steps_per_epoch is 0 (unknown) the bar and ETA are left out.
// The clock is injectable (seconds, monotonic) so tests can drive time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace graft::transfer {

// Extra named values shown after the loss, in the order given.
using ProgressValues = std::vector<std::pair<std::string, double>>;

struct ProgressOptions {
    std::FILE* out = stdout;
    std::optional<bool> terminal;       // default: isatty(fileno(out))
    int64_t plain_every_steps = 0;      // 0: steps_per_epoch / 10 (at least 1); unknown length: 50
    double plain_every_seconds = 30.0;  // a plain line at least this often (0: off)
    double redraw_seconds = 0.1;        // terminal redraw limit
    int bar_width = 20;
    // Terminal lines longer than this are cut so that '\r' can redraw them (a
    // wrapped line cannot be); 0: the terminal's width (TIOCGWINSZ), else 80.
    int line_width = 0;
    std::string unit = "samples";       // "samples/s"; "images", "tokens", ...
    std::function<double()> clock;      // seconds; default std::chrono::steady_clock
};

class ProgressBar {
public:
    // epochs >= 1; steps_per_epoch >= 0 (0 when the length is not known).
    ProgressBar(int64_t epochs, int64_t steps_per_epoch, ProgressOptions options = {});

    // Starts epoch `epoch` (1-based, <= epochs): resets the running loss and timer.
    void start_epoch(int64_t epoch);
    // One optimisation step on `batch_size` samples with its mean loss.
    void step(double loss, int64_t batch_size, const ProgressValues& extra = {});
    // Prints the epoch's closing line (ends the terminal line) with `extra`.
    void end_epoch(const ProgressValues& extra = {});
    // Prints a message on its own line without breaking the bar.
    void message(const std::string& text);
    // For a length learnt while running (the first epoch of a stream); >= 0.
    void set_steps_per_epoch(int64_t steps);

    int64_t epoch() const { return epoch_; }
    int64_t step_in_epoch() const { return step_; }
    double epoch_mean_loss() const;  // NaN before the first step
    double samples_per_second() const;
    double elapsed_seconds() const;  // since start_epoch
    bool is_terminal() const { return terminal_; }

private:
    std::string status_line(bool plain, const ProgressValues& extra) const;
    void draw(const std::string& line, bool cut = true);
    void finish_terminal_line();
    double now() const;

    int64_t epochs_, steps_per_epoch_;
    ProgressOptions options_;
    bool terminal_ = false;
    size_t max_width_ = 80;  // terminal lines are cut to this
    int64_t plain_every_ = 1;
    int64_t epoch_ = 0, step_ = 0, samples_ = 0;
    double loss_sum_ = 0.0;
    double epoch_start_ = 0.0, last_print_ = 0.0;
    double finished_seconds_ = 0.0;  // of the epochs ended so far
    int64_t finished_epochs_ = 0;
    int64_t last_print_step_ = 0;
    bool line_open_ = false;  // a terminal line drawn without its newline
    size_t last_width_ = 0;
};

// "0:07", "12:34", "1:02:03": durations as the bar prints them (NaN or negative: "?").
std::string format_duration(double seconds);

}  // namespace graft::transfer
