// Splitting delimited text (CSV, TSV) into rows of fields: the one small parser
// behind CsvDataset and TextClassification.
//
// Rules (RFC 4180, plus what real files do):
//   - fields are separated by `delimiter`; a row ends at \n or \r\n;
//   - with `quotes`, a field that starts with " is quoted: it may hold the
//     delimiter, newlines and "" (one literal quote), and must be followed by
//     the delimiter or the end of the row; a quote inside an unquoted field is
//     an ordinary character (as Python's csv module reads it);
//   - blank rows are skipped; a UTF-8 byte-order mark at the start is dropped;
//   - errors name the file and the line: an unterminated quote (the line where
//     it opened), text after a closing quote.
//
// Why a hand parser rather than a library: Debian's C++ CSV libraries are
// either heavy or lack line numbers in their errors; this is ~100 lines, reads
// from memory (so the fuzz target drives it directly), and reports file:line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace graft::io {

struct CsvRow {
    int64_t line = 0;  // 1-based line where the row starts
    std::vector<std::string> fields;
};

// `name` is used in error messages ("data/iris.csv").
std::vector<CsvRow> parse_delimited(std::string_view text, const std::string& name, char delimiter = ',',
                                    bool quotes = true);

// The whole file as bytes; graft::Error naming the file when it is missing, a
// directory or unreadable. `op` prefixes the message.
std::string read_text_file(const std::string& path, const char* op);

// Field text without surrounding spaces and tabs.
std::string_view trim(std::string_view s);
// Parses a whole (trimmed) field as a number; false if it is not one.
bool parse_double(std::string_view s, double& out);
bool parse_int64(std::string_view s, int64_t& out);

}  // namespace graft::io
