// ProgressBar: formatting and the decision of when to print.
#include "transfer/training/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace graft::transfer {
namespace {

// s += each part (GCC 12 warns, wrongly, on chains of "literal" + std::string).
template <typename... Parts>
void append(std::string& s, const Parts&... parts) {
    (s += ... += parts);
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// Extras span learning rates (1e-5) to counts; four significant digits reads
// well for all of them.
std::string format_value(double v) { return fmt("%.4g", v); }

std::string format_rate(double v) {
    if (!std::isfinite(v)) return "-";
    return fmt(v >= 100 ? "%.0f" : "%.1f", v);
}

void append_values(std::string& line, const ProgressValues& values, const char* sep) {
    for (const auto& [name, value] : values) append(line, sep, name, " ", format_value(value));
}

}  // namespace

std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e9) return "?";
    const long long s = (long long)std::llround(seconds);
    char buf[48];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    return buf;
}

ProgressBar::ProgressBar(int64_t epochs, int64_t steps_per_epoch, ProgressOptions options)
    : epochs_(epochs), steps_per_epoch_(steps_per_epoch), options_(std::move(options)) {
    check(epochs >= 1, "ProgressBar", "epochs must be at least 1, got ", epochs);
    check(steps_per_epoch >= 0, "ProgressBar", "steps_per_epoch must be >= 0 (0: unknown), got ", steps_per_epoch);
    check(options_.out != nullptr, "ProgressBar", "the output FILE* is null");
    check(options_.bar_width >= 0 && options_.bar_width <= 200, "ProgressBar", "bar_width must be in [0, 200], got ",
          options_.bar_width);
    terminal_ = options_.terminal ? *options_.terminal : ::isatty(::fileno(options_.out)) == 1;
    check(options_.line_width >= 0, "ProgressBar", "line_width must be >= 0, got ", options_.line_width);
    if (options_.line_width > 0) {
        max_width_ = size_t(options_.line_width);
    } else if (terminal_) {
        winsize ws{};
        if (::ioctl(::fileno(options_.out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) max_width_ = ws.ws_col;
    }
    // The last column stays free: some terminals wrap when it is written.
    max_width_ = std::max<size_t>(max_width_, 2) - 1;
    if (options_.plain_every_steps > 0) plain_every_ = options_.plain_every_steps;
    else plain_every_ = steps_per_epoch > 0 ? std::max<int64_t>(1, steps_per_epoch / 10) : 50;
}

double ProgressBar::now() const {
    if (options_.clock) return options_.clock();
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

void ProgressBar::start_epoch(int64_t epoch) {
    check(epoch >= 1 && epoch <= epochs_, "ProgressBar::start_epoch", "epoch ", epoch, " is outside [1, ", epochs_, "]");
    if (line_open_) finish_terminal_line();
    epoch_ = epoch;
    step_ = samples_ = last_print_step_ = 0;
    loss_sum_ = 0.0;
    epoch_start_ = last_print_ = now();
}

double ProgressBar::epoch_mean_loss() const {
    return samples_ ? loss_sum_ / double(samples_) : std::numeric_limits<double>::quiet_NaN();
}

double ProgressBar::elapsed_seconds() const { return epoch_ ? now() - epoch_start_ : 0.0; }

double ProgressBar::samples_per_second() const {
    const double t = elapsed_seconds();
    return t > 0 ? double(samples_) / t : std::numeric_limits<double>::quiet_NaN();
}

std::string ProgressBar::status_line(bool plain, const ProgressValues& extra) const {
    const std::string sep = plain ? " " : "  ";
    std::string line;
    append(line, "epoch ", std::to_string(epoch_), "/", std::to_string(epochs_));
    const bool known = steps_per_epoch_ > 0;
    if (plain) {
        append(line, " step ", std::to_string(step_));
        if (known) append(line, "/", std::to_string(steps_per_epoch_));
    } else {
        if (known && options_.bar_width > 0) {
            const double frac = std::min(1.0, double(step_) / double(steps_per_epoch_));
            const int filled = int(frac * options_.bar_width);
            append(line, " [", std::string(size_t(filled), '#'), std::string(size_t(options_.bar_width - filled), '.'), "]");
        }
        std::string count = std::to_string(step_);
        if (known) {
            const std::string total = std::to_string(steps_per_epoch_);
            std::string padded(total.size() > count.size() ? total.size() - count.size() : 0, ' ');
            append(padded, count, "/", total);
            count = padded;
        }
        append(line, sep, count);
    }
    append(line, sep, "loss ", fmt("%.4f", epoch_mean_loss()));
    append_values(line, extra, sep.c_str());
    append(line, sep, format_rate(samples_per_second()), " ", options_.unit, "/s");
    if (known && step_ > 0 && step_ < steps_per_epoch_) {
        const double eta = elapsed_seconds() / double(step_) * double(steps_per_epoch_ - step_);
        append(line, sep, plain ? "eta " : "ETA ", format_duration(eta));
    }
    return line;
}

void ProgressBar::draw(const std::string& full_line, bool cut) {
    const std::string line = cut ? full_line.substr(0, max_width_) : full_line;
    // Pad with spaces over whatever the previous, longer line left behind.
    std::string text = "\r";
    text += line;
    if (line.size() < last_width_) text += std::string(last_width_ - line.size(), ' ');
    last_width_ = line.size();
    std::fputs(text.c_str(), options_.out);
    std::fflush(options_.out);
    line_open_ = true;
}

void ProgressBar::finish_terminal_line() {
    std::fputc('\n', options_.out);
    std::fflush(options_.out);
    line_open_ = false;
    last_width_ = 0;
}

void ProgressBar::step(double loss, int64_t batch_size, const ProgressValues& extra) {
    check(epoch_ >= 1, "ProgressBar::step", "call start_epoch before step");
    check(batch_size >= 0, "ProgressBar::step", "batch_size must be non-negative, got ", batch_size);
    ++step_;
    samples_ += batch_size;
    loss_sum_ += loss * double(batch_size);
    const double t = now();
    if (terminal_) {
        const bool last = steps_per_epoch_ > 0 && step_ >= steps_per_epoch_;
        if (step_ == 1 || last || t - last_print_ >= options_.redraw_seconds) {
            draw(status_line(false, extra));
            last_print_ = t;
        }
        return;
    }
    const bool by_steps = step_ - last_print_step_ >= plain_every_;
    const bool by_time = options_.plain_every_seconds > 0 && t - last_print_ >= options_.plain_every_seconds;
    if (by_steps || by_time) {
        std::fprintf(options_.out, "%s\n", status_line(true, extra).c_str());
        std::fflush(options_.out);
        last_print_ = t;
        last_print_step_ = step_;
    }
}

void ProgressBar::end_epoch(const ProgressValues& extra) {
    check(epoch_ >= 1, "ProgressBar::end_epoch", "call start_epoch before end_epoch");
    std::string line;
    append(line, "epoch ", std::to_string(epoch_), "/", std::to_string(epochs_), " done in ",
           format_duration(elapsed_seconds()));
    if (samples_) append(line, " loss ", fmt("%.4f", epoch_mean_loss()));
    append_values(line, extra, " ");
    if (samples_) append(line, " ", format_rate(samples_per_second()), " ", options_.unit, "/s");
    finished_seconds_ += elapsed_seconds();
    ++finished_epochs_;
    if (epoch_ < epochs_)
        append(line, " eta ", format_duration(finished_seconds_ / double(finished_epochs_) * double(epochs_ - epoch_)));
    if (terminal_) {
        draw(line, false);  // ends with a newline: may wrap
        finish_terminal_line();
    } else {
        std::fprintf(options_.out, "%s\n", line.c_str());
        std::fflush(options_.out);
    }
}

void ProgressBar::set_steps_per_epoch(int64_t steps) {
    check(steps >= 0, "ProgressBar::set_steps_per_epoch", "steps must be >= 0, got ", steps);
    steps_per_epoch_ = steps;
    if (options_.plain_every_steps <= 0) plain_every_ = steps > 0 ? std::max<int64_t>(1, steps / 10) : 50;
}

void ProgressBar::message(const std::string& text) {
    if (terminal_ && line_open_) {
        draw(text, false);
        finish_terminal_line();
        if (step_ > 0) draw(status_line(false, {}));
        return;
    }
    std::fprintf(options_.out, "%s\n", text.c_str());
    std::fflush(options_.out);
}

}  // namespace graft::transfer
