// MetricsLog: one row per step or epoch, appended to a CSV or JSON Lines file and
// flushed after every row, so a run killed at any point keeps its log up to the
// last row written.
//
//   transfer::MetricsLog log("runs/a/metrics.csv");           // format from ".csv"
//   log.write({{"epoch", 1}, {"step", 100}, {"loss", 0.412}, {"lr", 1e-3}});
//   log.write({{"epoch", 1}, {"step", 200}, {"loss", 0.398}, {"lr", 1e-3}});
//
//   transfer::MetricsLog events("runs/a/metrics.jsonl");      // ".jsonl"/".ndjson"
//   events.write({{"epoch", 1}, {"val_acc", 0.871}, {"phase", "val"}});
//
// Values are integers, floating-point numbers or strings (MetricValue converts
// implicitly from each). Doubles are written in the shortest form that reads
// back to the same double; NaN and infinities are written as nan/inf/-inf in CSV
// (what pandas and numpy read) and as null in JSONL (JSON has no NaN).
//
// CSV columns are fixed once the header is written: they come from
// MetricsLogOptions::columns when given, otherwise from the first row's keys in
// the order given. A later row may leave columns out (empty cells) but a key
// that is not a column throws graft::Error naming the key, the columns and the
// file, since a silently dropped metric is worse than a loud one. Declare all
// columns up front when step rows and epoch rows share one CSV, or use JSONL,
// where every row carries its own keys.
//
// With append = true an existing file is continued (resuming a run): a CSV's
// columns are read back from its header. Without append the file is replaced.
// Rows are flushed to the operating system after each write (fflush, no fsync),
// which survives the process being killed, not the machine losing power.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace graft::transfer {

class MetricValue {
public:
    enum class Kind { Integer, Real, Text };
    MetricValue(int v) : kind_(Kind::Integer), int_(v) {}
    MetricValue(long v) : kind_(Kind::Integer), int_(v) {}
    MetricValue(long long v) : kind_(Kind::Integer), int_(v) {}
    MetricValue(unsigned v) : kind_(Kind::Integer), int_(v) {}
    MetricValue(unsigned long v) : kind_(Kind::Integer), int_(int64_t(v)) {}
    MetricValue(unsigned long long v) : kind_(Kind::Integer), int_(int64_t(v)) {}
    MetricValue(float v) : kind_(Kind::Real), real_(v) {}
    MetricValue(double v) : kind_(Kind::Real), real_(v) {}
    MetricValue(const char* v) : kind_(Kind::Text), text_(v) {}
    MetricValue(std::string v) : kind_(Kind::Text), text_(std::move(v)) {}

    Kind kind() const { return kind_; }
    int64_t integer() const { return int_; }
    double real() const { return kind_ == Kind::Integer ? double(int_) : real_; }
    const std::string& text() const { return text_; }
    // The CSV cell: shortest round-trip number, or the text (unquoted).
    std::string to_string() const;

private:
    Kind kind_;
    int64_t int_ = 0;
    double real_ = 0.0;
    std::string text_;
};

using MetricRow = std::vector<std::pair<std::string, MetricValue>>;

enum class LogFormat { Auto, Csv, Jsonl };  // Auto: ".csv" -> Csv, ".jsonl"/".ndjson"/".json" -> Jsonl

struct MetricsLogOptions {
    LogFormat format = LogFormat::Auto;
    bool append = false;               // continue an existing file
    std::vector<std::string> columns;  // CSV: fixed header (default: the first row's keys)
};

class MetricsLog {
public:
    explicit MetricsLog(const std::string& path, MetricsLogOptions options = {});
    ~MetricsLog();
    MetricsLog(const MetricsLog&) = delete;
    MetricsLog& operator=(const MetricsLog&) = delete;
    MetricsLog(MetricsLog&& other) noexcept;
    MetricsLog& operator=(MetricsLog&& other) noexcept;

    // Appends one row and flushes it. Duplicate keys in a row are an error.
    void write(const MetricRow& row);
    // Closes the file (the destructor does too); later writes are an error.
    void close();

    const std::string& path() const { return path_; }
    LogFormat format() const { return format_; }
    const std::vector<std::string>& columns() const { return columns_; }  // CSV only
    int64_t rows_written() const { return rows_; }

private:
    void write_csv(const MetricRow& row);
    void write_jsonl(const MetricRow& row);
    void put(const std::string& text);

    std::string path_;
    LogFormat format_ = LogFormat::Csv;
    std::vector<std::string> columns_;
    bool header_written_ = false;
    std::FILE* file_ = nullptr;
    int64_t rows_ = 0;
};

// Reads a log back (either format; Auto by extension): one MetricRow per line,
// keys in the file's order. CSV cells that are empty are left out of their row;
// cells that parse whole as integers become integers, as numbers (nan and inf
// included) reals, anything else text. JSONL nulls become NaN. A line cut short
// by a killed run (unbalanced quote, bad JSON on the last line) is dropped;
// a bad line elsewhere throws graft::Error naming the file and line.
std::vector<MetricRow> read_metrics_log(const std::string& path, LogFormat format = LogFormat::Auto);

// The format Auto picks for `path`; throws graft::Error for an unknown extension.
LogFormat log_format_for(const std::string& path);

// A CSV cell as RFC 4180 writes it: quoted when it holds a comma, quote, or
// line break, with quotes doubled.
std::string csv_escape(const std::string& cell);

}  // namespace graft::transfer
