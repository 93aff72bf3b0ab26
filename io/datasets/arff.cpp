// ARFF reader: a line scanner for the header and a quote-aware splitter for
// the values (rules in arff.h).
#include "io/datasets/arff.h"

#include <cctype>

#include "core/error.h"

namespace graft::io {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

struct Scanner {
    std::string_view s;
    size_t i = 0;
    const std::string& name;
    int64_t line;

    void skip_space() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    }
    bool done() {
        skip_space();
        return i >= s.size() || s[i] == '%';
    }
    // One value: quoted (with escapes) or bare up to a separator in `stops`.
    std::string value(std::string_view stops) {
        skip_space();
        check(i < s.size(), "parse_arff", name, ":", line, ": a value is missing");
        std::string out;
        if (s[i] == '\'' || s[i] == '"') {
            const char q = s[i++];
            for (;;) {
                check(i < s.size(), "parse_arff", name, ":", line, ": quoted value is never closed");
                const char c = s[i++];
                if (c == q) break;
                if (c == '\\' && i < s.size()) {
                    const char e = s[i++];
                    out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
                } else {
                    out += c;
                }
            }
            return out;
        }
        while (i < s.size() && stops.find(s[i]) == std::string_view::npos) out += s[i++];
        return std::string(trim(out));
    }
};

// Splits one logical line; ends at the line's end.
std::vector<std::string> data_values(std::string_view row, const std::string& name, int64_t line) {
    Scanner sc{row, 0, name, line};
    std::vector<std::string> values;
    check(!(sc.skip_space(), sc.i < row.size() && row[sc.i] == '{'), "parse_arff", name, ":", line,
          ": sparse rows {...} are not supported");
    for (;;) {
        values.push_back(sc.value(",%"));  // Weka reads % as a comment anywhere
        sc.skip_space();
        if (sc.i >= row.size() || row[sc.i] == '%') break;
        check(row[sc.i] == ',', "parse_arff", name, ":", line, ": expected ',' between values, found '",
              row[sc.i], "'");
        ++sc.i;
    }
    return values;
}

ArffAttribute attribute(std::string_view rest, const std::string& name, int64_t line) {
    Scanner sc{rest, 0, name, line};
    ArffAttribute a;
    a.name = sc.value(" \t{");
    check(!a.name.empty(), "parse_arff", name, ":", line, ": @attribute without a name");
    sc.skip_space();
    check(sc.i < rest.size(), "parse_arff", name, ":", line, ": @attribute ", a.name, " has no type");
    if (rest[sc.i] == '{') {
        a.type = "nominal";
        ++sc.i;
        for (;;) {
            a.values.push_back(sc.value(",}"));
            sc.skip_space();
            check(sc.i < rest.size(), "parse_arff", name, ":", line, ": nominal values of ", a.name,
                  " are not closed with }");
            if (rest[sc.i++] == '}') break;
        }
        return a;
    }
    a.type = lower(sc.value(" \t"));
    check(a.type != "relational", "parse_arff", name, ":", line, ": relational attributes are not supported");
    return a;
}

}  // namespace

ArffTable parse_arff(std::string_view text, const std::string& name) {
    ArffTable table;
    bool in_data = false;
    int64_t line = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view row = text.substr(pos, end - pos);
        pos = end + 1;
        ++line;
        if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
        const std::string_view t = trim(row);
        if (t.empty() || t[0] == '%') continue;
        if (in_data) {
            CsvRow r{line, data_values(row, name, line)};
            check(r.fields.size() == table.attributes.size(), "parse_arff", name, ":", line, ": row has ",
                  r.fields.size(), " values, expected ", table.attributes.size(), " (one per @attribute)");
            table.rows.push_back(std::move(r));
            continue;
        }
        check(t[0] == '@', "parse_arff", name, ":", line, ": expected an @ declaration before @data");
        const size_t space = t.find_first_of(" \t");
        const std::string keyword = lower(t.substr(0, space));
        const std::string_view rest = space == std::string_view::npos ? std::string_view() : t.substr(space);
        if (keyword == "@relation") {
            table.relation = std::string(trim(rest));
        } else if (keyword == "@attribute") {
            table.attributes.push_back(attribute(rest, name, line));
        } else if (keyword == "@data") {
            check(!table.attributes.empty(), "parse_arff", name, ":", line, ": @data before any @attribute");
            in_data = true;
        } else {
            throw Error(cat_str("parse_arff: ", name, ":", line, ": unknown declaration ", keyword));
        }
    }
    check(in_data, "parse_arff", name, ": no @data section");
    return table;
}

}  // namespace graft::io
