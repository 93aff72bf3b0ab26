// The delimited-text parser, the file reader and number parsing (rules in csv.h).
#include "io/datasets/csv.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace graft::io {

std::vector<CsvRow> parse_delimited(std::string_view text, const std::string& name, char delimiter,
                                    bool quotes) {
    check(delimiter != '"' && delimiter != '\n' && delimiter != '\r', "parse_delimited",
          "the delimiter cannot be a quote or a line break");
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::vector<CsvRow> rows;
    CsvRow row;
    std::string field;
    int64_t line = 1;
    size_t i = 0;
    const size_t n = text.size();
    bool row_has_content = false;

    auto end_field = [&] {
        row.fields.push_back(std::move(field));
        field.clear();
    };
    auto end_row = [&] {
        end_field();
        if (row_has_content) rows.push_back(std::move(row));
        row = CsvRow{};
        row_has_content = false;
    };

    while (i < n) {
        if (!row_has_content) row.line = line;
        const char c = text[i];
        if (quotes && c == '"' && field.empty() && (i == 0 || text[i - 1] == delimiter || text[i - 1] == '\n' ||
                                                    text[i - 1] == '\r')) {
            const int64_t opened = line;
            row_has_content = true;
            ++i;
            for (;;) {
                check(i < n, "parse_delimited", name, ":", opened, ": quoted field is never closed");
                if (text[i] == '"') {
                    if (i + 1 < n && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                if (text[i] == '\n') ++line;
                field += text[i++];
            }
            check(i == n || text[i] == delimiter || text[i] == '\n' || text[i] == '\r', "parse_delimited", name,
                  ":", line, ": unexpected character '", text[i], "' after a closing quote");
            continue;
        }
        if (c == delimiter) {
            row_has_content = true;
            end_field();
            ++i;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
            ++i;
            end_row();
            ++line;
        } else {
            row_has_content = true;
            field += c;
            ++i;
        }
    }
    end_row();
    return rows;
}

std::string read_text_file(const std::string& path, const char* op) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    check(fs::exists(status), op, path, ": no such file");
    check(!fs::is_directory(status), op, path, ": is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    check(bool(in), op, path, ": cannot open: ", std::strerror(errno));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    check(!in.bad(), op, path, ": read error");
    return std::move(bytes).str();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool parse_double(std::string_view s, double& out) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

bool parse_int64(std::string_view s, int64_t& out) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace graft::io
