// transfer/training/progress: the exact plain-line output (not a terminal) and
// the terminal redraw under a fake clock; duration formatting.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "transfer/training/progress.h"

using namespace graft::transfer;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// Captures what the bar prints into a string (POSIX open_memstream).
struct Capture {
    char* buffer = nullptr;
    size_t size = 0;
    std::FILE* file = open_memstream(&buffer, &size);
    ~Capture() {
        if (file) std::fclose(file);
        std::free(buffer);
    }
    std::string text() {
        std::fflush(file);
        return std::string(buffer, size);
    }
};

}  // namespace

TEST_CASE("format_duration", "[transfer][progress]") {
    CHECK(format_duration(0) == "0:00");
    CHECK(format_duration(7.4) == "0:07");
    CHECK(format_duration(754) == "12:34");
    CHECK(format_duration(3723) == "1:02:03");
    CHECK(format_duration(-1) == "?");
    CHECK(format_duration(std::nan("")) == "?");
}

TEST_CASE("ProgressBar plain lines: every tenth of an epoch and a closing line", "[transfer][progress]") {
    Capture cap;
    double t = 100.0;
    ProgressOptions opt;
    opt.out = cap.file;
    opt.terminal = false;
    opt.clock = [&] { return t; };
    ProgressBar bar(2, 20, opt);  // a line every 2 steps
    bar.start_epoch(1);
    for (int s = 1; s <= 20; ++s) {
        t += 0.5;  // 32 samples per half second: 64 samples/s
        bar.step(double(s), 32, {{"lr", 0.001}});
    }
    bar.end_epoch({{"val_loss", 0.25}, {"val_acc", 0.875}});
    const std::string out = cap.text();
    // Ten step lines plus the closing line.
    CHECK(std::count(out.begin(), out.end(), '\n') == 11);
    CHECK(out.find('\r') == std::string::npos);
    // Step 2: mean loss (1 + 2) / 2, one second gone, 18 steps of 0.5 s left.
    CHECK_THAT(out, Contains("epoch 1/2 step 2/20 loss 1.5000 lr 0.001 64.0 samples/s eta 0:09\n"));
    CHECK_THAT(out, Contains("epoch 1/2 step 10/20 loss 5.5000 lr 0.001 64.0 samples/s eta 0:05\n"));
    // The last step has no ETA; the closing line carries the epoch's numbers.
    CHECK_THAT(out, Contains("epoch 1/2 step 20/20 loss 10.5000 lr 0.001 64.0 samples/s\n"));
    // One epoch of two done in 10 s: the other should take as long.
    CHECK_THAT(out, Contains("epoch 1/2 done in 0:10 loss 10.5000 val_loss 0.25 val_acc 0.875 64.0 samples/s eta 0:10\n"));
    CHECK(bar.epoch_mean_loss() == Approx(10.5));
}

TEST_CASE("ProgressBar plain lines also come by time, and with an unknown length", "[transfer][progress]") {
    Capture cap;
    double t = 0.0;
    ProgressOptions opt;
    opt.out = cap.file;
    opt.terminal = false;
    opt.plain_every_steps = 1000;
    opt.plain_every_seconds = 10.0;
    opt.unit = "images";
    opt.clock = [&] { return t; };
    ProgressBar bar(1, 0, opt);
    bar.start_epoch(1);
    for (int s = 1; s <= 25; ++s) {
        t += 1.0;
        bar.step(0.5, 100);
    }
    const std::string out = cap.text();
    CHECK(std::count(out.begin(), out.end(), '\n') == 2);  // at 10 s and 20 s
    CHECK_THAT(out, Contains("epoch 1/1 step 10 loss 0.5000 100 images/s\n"));
    CHECK_THAT(out, Contains("epoch 1/1 step 20 loss 0.5000 100 images/s\n"));
}

TEST_CASE("ProgressBar on a terminal redraws one line and ends it per epoch", "[transfer][progress]") {
    Capture cap;
    double t = 0.0;
    ProgressOptions opt;
    opt.out = cap.file;
    opt.terminal = true;
    opt.bar_width = 10;
    opt.redraw_seconds = 1.0;
    opt.clock = [&] { return t; };
    ProgressBar bar(3, 4, opt);
    bar.start_epoch(2);
    t = 0.5;
    bar.step(2.0, 10);  // first step: drawn
    t = 0.7;
    bar.step(2.0, 10);  // too soon: not drawn
    t = 2.0;
    bar.step(2.0, 10);  // drawn
    bar.message("saved checkpoint");
    t = 2.1;
    bar.step(2.0, 10);  // last step: always drawn
    bar.end_epoch();
    const std::string out = cap.text();
    CHECK_THAT(out, Contains("\repoch 2/3 [##........]  1/4  loss 2.0000  20.0 samples/s  ETA 0:02"));
    CHECK_THAT(out, !Contains("2/4"));
    CHECK_THAT(out, Contains("\repoch 2/3 [#######...]  3/4  loss 2.0000  15.0 samples/s  ETA 0:01"));
    CHECK_THAT(out, Contains("\rsaved checkpoint"));
    CHECK_THAT(out, Contains("\repoch 2/3 [##########]  4/4  loss 2.0000  19.0 samples/s"));
    CHECK_THAT(out, Contains("\repoch 2/3 done in 0:02 loss 2.0000 19.0 samples/s"));
    CHECK(out.back() == '\n');
    CHECK(std::count(out.begin(), out.end(), '\n') == 2);  // the message and the epoch's end
}

TEST_CASE("ProgressBar argument checks", "[transfer][progress]") {
    CHECK_THROWS_WITH(ProgressBar(0, 10), Contains("epochs"));
    CHECK_THROWS_WITH(ProgressBar(1, -1), Contains("steps_per_epoch"));
    ProgressOptions opt;
    opt.terminal = false;
    ProgressBar bar(2, 10, opt);
    CHECK_THROWS_WITH(bar.step(1.0, 1), Contains("start_epoch"));
    CHECK_THROWS_WITH(bar.start_epoch(3), Contains("epoch 3"));
}

TEST_CASE("ProgressBar cuts terminal lines to the width but not the epoch summary", "[transfer][progress]") {
    Capture cap;
    double t = 0.0;
    ProgressOptions opt;
    opt.out = cap.file;
    opt.terminal = true;
    opt.line_width = 31;  // 30 columns used, the last one left free
    opt.clock = [&] { return t; };
    ProgressBar bar(1, 100, opt);
    bar.start_epoch(1);
    t = 1.0;
    bar.step(1.0, 8, {{"lr", 0.1}});
    bar.end_epoch({{"val_acc", 0.5}});
    const std::string out = cap.text();
    CHECK_THAT(out, StartsWith("\repoch 1/1 [...................\r"));  // 30 characters after the CR
    CHECK_THAT(out, Contains("done in 0:01 loss 1.0000 val_acc 0.5 8.0 samples/s\n"));
}

TEST_CASE("ProgressBar learns the epoch length and estimates the run's remaining time", "[transfer][progress]") {
    Capture cap;
    double t = 0.0;
    ProgressOptions opt;
    opt.out = cap.file;
    opt.terminal = false;
    opt.clock = [&] { return t; };
    ProgressBar bar(3, 0, opt);
    bar.start_epoch(1);
    for (int s = 0; s < 4; ++s) t += 1.0, bar.step(1.0, 1);
    bar.end_epoch();  // 4 s
    bar.set_steps_per_epoch(4);
    bar.start_epoch(2);
    for (int s = 0; s < 4; ++s) t += 2.0, bar.step(1.0, 1);
    bar.end_epoch();  // 8 s: mean 6 s, one epoch left
    const std::string out = cap.text();
    CHECK_THAT(out, Contains("epoch 1/3 done in 0:04 loss 1.0000 1.0 samples/s eta 0:08\n"));
    CHECK_THAT(out, Contains("epoch 2/3 step 2/4 "));
    CHECK_THAT(out, Contains("epoch 2/3 done in 0:08 loss 1.0000 0.5 samples/s eta 0:06\n"));
    CHECK_THROWS(bar.set_steps_per_epoch(-1));
}
