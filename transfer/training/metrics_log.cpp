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

// One CSV line from cells (escaped here unless they already are).
std::string csv_record(const std::vector<std::string>& cells, bool escape = true) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
        if (i) line += ',';
        line += escape ? csv_escape(cells[i]) : cells[i];
    }
    line += '\n';
    return line;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) out += ", ";
        out += n;
    }
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
        put(csv_record(columns_));
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
        put(csv_record(columns_));
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
    put(csv_record(cells, false));
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

namespace {

// RFC 4180 records: quoted cells may hold commas, doubled quotes and line
// breaks. `complete` is false when the text ends inside a quoted cell.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, bool& complete) {
    std::vector<std::vector<std::string>> records;
    std::vector<std::string> record(1);
    bool quoted = false, any = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') record.back() += '"', ++i;
            else if (c == '"') quoted = false;
            else record.back() += c;
            continue;
        }
        if (c == '"') quoted = any = true;
        else if (c == ',') record.emplace_back(), any = true;
        else if (c == '\n') {
            if (any || record.size() > 1 || !record[0].empty()) records.push_back(std::move(record));
            record.assign(1, std::string());
            any = false;
        } else if (c != '\r') record.back() += c, any = true;
    }
    complete = !quoted;
    if (!quoted && (any || record.size() > 1 || !record[0].empty())) records.push_back(std::move(record));
    return records;
}

MetricValue parse_cell(const std::string& cell) {
    int64_t i = 0;
    auto [iend, ierr] = std::from_chars(cell.data(), cell.data() + cell.size(), i);
    if (ierr == std::errc() && iend == cell.data() + cell.size()) return MetricValue((long long)i);
    if (cell == "nan") return MetricValue(std::nan(""));
    if (cell == "inf") return MetricValue(INFINITY);
    if (cell == "-inf") return MetricValue(-INFINITY);
    double d = 0;
    auto [dend, derr] = std::from_chars(cell.data(), cell.data() + cell.size(), d);
    if (derr == std::errc() && dend == cell.data() + cell.size()) return MetricValue(d);
    return MetricValue(cell);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    check(bool(in), "read_metrics_log", "cannot open '", path, "': ", std::strerror(errno));
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::vector<MetricRow> read_metrics_log(const std::string& path, LogFormat format) {
    if (format == LogFormat::Auto) format = log_format_for(path);
    const std::string text = read_text(path);
    std::vector<MetricRow> rows;
    if (format == LogFormat::Csv) {
        bool complete = true;
        std::vector<std::vector<std::string>> records = parse_csv(text, complete);
        if (records.empty()) return rows;
        const std::vector<std::string>& header = records[0];
        for (size_t r = 1; r < records.size(); ++r) {
            check(records[r].size() <= header.size(), "read_metrics_log", "'", path, "' record ", r + 1, " has ",
                  records[r].size(), " cells for ", header.size(), " columns");
            MetricRow row;
            for (size_t c = 0; c < records[r].size(); ++c)
                if (!records[r][c].empty()) row.emplace_back(header[c], parse_cell(records[r][c]));
            rows.push_back(std::move(row));
        }
        return rows;
    }
    size_t start = 0, line_no = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        const bool last = end == std::string::npos;
        if (last) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(line, nullptr, false);
        if (j.is_discarded() && last) break;  // cut short by a killed run
        check(j.is_object(), "read_metrics_log", "'", path, "' line ", line_no, " is not a JSON object");
        MetricRow row;
        for (auto it = j.begin(); it != j.end(); ++it) {
            const auto& v = it.value();
            if (v.is_number_integer()) row.emplace_back(it.key(), MetricValue((long long)v.get<int64_t>()));
            else if (v.is_number()) row.emplace_back(it.key(), MetricValue(v.get<double>()));
            else if (v.is_null()) row.emplace_back(it.key(), MetricValue(std::nan("")));
            else if (v.is_string()) row.emplace_back(it.key(), MetricValue(v.get<std::string>()));
            else row.emplace_back(it.key(), MetricValue(v.dump()));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace graft::transfer
