// MetricsLog: CSV with a fixed header, or JSON Lines through nlohmann-json.
#include "transfer/training/metrics_log.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace graft::transfer {
namespace {

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

// Splits one CSV record (no embedded line breaks needed for headers).
std::vector<std::string> parse_csv_record(const std::string& line) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cells.back() += '"', ++i;
            else if (c == '"') quoted = false;
            else cells.back() += c;
        } else if (c == '"') quoted = true;
        else if (c == ',') cells.emplace_back();
        else if (c != '\r') cells.back() += c;
    }
    return cells;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return "[" + out + "]";
}

}  // namespace

std::string MetricValue::to_string() const {
    if (kind_ == Kind::Text) return text_;
    if (kind_ == Kind::Integer) return std::to_string(int_);
    if (std::isnan(real_)) return "nan";
    if (std::isinf(real_)) return real_ > 0 ? "inf" : "-inf";
    char buf[64];
    auto result = std::to_chars(buf, buf + sizeof buf, real_);  // shortest round-trip form
    return std::string(buf, result.ptr);
}

std::string csv_escape(const std::string& cell) {
    if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
    std::string out = "\"";
    for (char c : cell) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

LogFormat log_format_for(const std::string& path) {
    const std::string ext = lower_extension(path);
    if (ext == ".csv") return LogFormat::Csv;
    if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return LogFormat::Jsonl;
    throw Error(cat_str("MetricsLog: cannot tell the format of '", path,
                        "' from its extension; use .csv, .jsonl or .ndjson, or pass LogFormat::Csv/Jsonl"));
}

MetricsLog::MetricsLog(const std::string& path, MetricsLogOptions options)
    : path_(path), columns_(std::move(options.columns)) {
    format_ = options.format == LogFormat::Auto ? log_format_for(path) : options.format;
    check(format_ == LogFormat::Csv || columns_.empty(), "MetricsLog", "'", path,
          "': columns are for CSV logs; JSONL rows carry their own keys");
    for (size_t i = 0; i < columns_.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            check(columns_[i] != columns_[j], "MetricsLog", "'", path, "': column '", columns_[i], "' is listed twice");

    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);  // open() below reports what matters

    bool needs_newline = false;
    if (options.append && fs::exists(path, ec) && fs::file_size(path, ec) > 0) {
        std::ifstream in(path, std::ios::binary);
        std::string first;
        std::getline(in, first);
        if (format_ == LogFormat::Csv) {
            std::vector<std::string> existing = parse_csv_record(first);
            check(columns_.empty() || columns_ == existing, "MetricsLog", "'", path, "' has columns ",
                  join_names(existing), " but ", join_names(columns_), " were asked for");
            columns_ = std::move(existing);
            header_written_ = true;
        }
        in.clear();
        in.seekg(-1, std::ios::end);
        needs_newline = in.get() != '\n';  // a row cut short by a killed run
    }
    file_ = std::fopen(path.c_str(), options.append ? "ab" : "wb");
    check(file_ != nullptr, "MetricsLog", "cannot open '", path, "' for writing: ", std::strerror(errno));
    if (needs_newline) put("\n");
    if (format_ == LogFormat::Csv && !header_written_ && !columns_.empty()) {
        std::string header;
        for (size_t i = 0; i < columns_.size(); ++i) header += (i ? "," : "") + csv_escape(columns_[i]);
        put(header + "\n");
        header_written_ = true;
    }
}

MetricsLog::~MetricsLog() {
    if (file_) std::fclose(file_);
}

MetricsLog::MetricsLog(MetricsLog&& other) noexcept
    : path_(std::move(other.path_)), format_(other.format_), columns_(std::move(other.columns_)),
      header_written_(other.header_written_), file_(std::exchange(other.file_, nullptr)), rows_(other.rows_) {}

MetricsLog& MetricsLog::operator=(MetricsLog&& other) noexcept {
    if (this != &other) {
        if (file_) std::fclose(file_);
        path_ = std::move(other.path_);
        format_ = other.format_;
        columns_ = std::move(other.columns_);
        header_written_ = other.header_written_;
        file_ = std::exchange(other.file_, nullptr);
        rows_ = other.rows_;
    }
    return *this;
}

void MetricsLog::close() {
    if (!file_) return;
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    check(ok, "MetricsLog", "closing '", path_, "' failed: ", std::strerror(errno));
}

void MetricsLog::put(const std::string& text) {
    const bool ok = std::fwrite(text.data(), 1, text.size(), file_) == text.size() && std::fflush(file_) == 0;
    check(ok, "MetricsLog", "writing '", path_, "' failed: ", std::strerror(errno));
}

void MetricsLog::write(const MetricRow& row) {
    check(file_ != nullptr, "MetricsLog::write", "'", path_, "' is closed");
    for (size_t i = 0; i < row.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            check(row[i].first != row[j].first, "MetricsLog::write", "'", path_, "': key '", row[i].first,
                  "' appears twice in one row");
    if (format_ == LogFormat::Csv) write_csv(row);
    else write_jsonl(row);
    ++rows_;
}

void MetricsLog::write_csv(const MetricRow& row) {
    if (!header_written_) {
        check(!row.empty(), "MetricsLog::write", "'", path_, "': the first row of a CSV log names its columns "
              "and cannot be empty");
        for (const auto& [key, value] : row) columns_.push_back(key);
        std::string header;
        for (size_t i = 0; i < columns_.size(); ++i) header += (i ? "," : "") + csv_escape(columns_[i]);
        put(header + "\n");
        header_written_ = true;
    }
    std::vector<std::string> cells(columns_.size());
    for (const auto& [key, value] : row) {
        auto it = std::find(columns_.begin(), columns_.end(), key);
        check(it != columns_.end(), "MetricsLog::write", "'", path_, "': key '", key, "' is not one of the columns ",
              join_names(columns_), " (a CSV header is fixed; list every column in MetricsLogOptions::columns, "
              "or log to .jsonl)");
        cells[size_t(it - columns_.begin())] = csv_escape(value.to_string());
    }
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
    put(line + "\n");
}

void MetricsLog::write_jsonl(const MetricRow& row) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (const auto& [key, value] : row) {
        switch (value.kind()) {
            case MetricValue::Kind::Integer: object[key] = value.integer(); break;
            case MetricValue::Kind::Real:
                if (std::isfinite(value.real())) object[key] = value.real();
                else object[key] = nullptr;
                break;
            case MetricValue::Kind::Text: object[key] = value.text(); break;
        }
    }
    // Invalid UTF-8 in a text value is replaced rather than thrown mid-run.
    put(object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

}  // namespace graft::transfer
