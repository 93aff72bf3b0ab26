// NamePattern: glob parsing and matching, or a compiled regex (see name_pattern.h).
#include "transfer/name_pattern.h"

#include "core/error.h"

namespace graft::transfer {

namespace {

constexpr const char* kRegexPrefix = "re:";

}  // namespace

bool NamePattern::Token::accepts(char c) const {
    switch (kind) {
        case Kind::Literal: return c == literal;
        case Kind::AnyOne: return true;
        case Kind::AnyRun: return true;
        case Kind::Class: break;
    }
    bool in = false;
    for (const auto& [lo, hi] : ranges) in = in || (lo <= c && c <= hi);
    return in != negated;
}

std::vector<NamePattern::Token> NamePattern::parse_glob(const std::string& glob) {
    std::vector<Token> tokens;
    for (size_t i = 0; i < glob.size(); ++i) {
        const char c = glob[i];
        if (c == '*') {
            // "**" means the same as "*"; one token keeps the matcher linear.
            if (tokens.empty() || tokens.back().kind != Token::Kind::AnyRun) tokens.emplace_back(Token::Kind::AnyRun);
        } else if (c == '?') {
            tokens.emplace_back(Token::Kind::AnyOne);
        } else if (c == '\\') {
            check(i + 1 < glob.size(), "NamePattern", "pattern \"", glob, "\" ends with a lone '\\'");
            tokens.emplace_back(Token::Kind::Literal, glob[++i]);
        } else if (c == '[') {
            Token t(Token::Kind::Class);
            size_t j = i + 1;
            if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) t.negated = true, ++j;
            const size_t first = j;
            for (; j < glob.size() && (glob[j] != ']' || j == first); ++j) {
                const char lo = glob[j];
                if (j + 2 < glob.size() && glob[j + 1] == '-' && glob[j + 2] != ']') {
                    const char hi = glob[j + 2];
                    check(lo <= hi, "NamePattern", "pattern \"", glob, "\": the range ", lo, "-", hi,
                          " is backwards");
                    t.ranges.push_back({lo, hi});
                    j += 2;
                } else {
                    t.ranges.push_back({lo, lo});
                }
            }
            check(j < glob.size(), "NamePattern", "pattern \"", glob, "\": the '[' at position ", i,
                  " has no closing ']' (write \\[ for a literal '[')");
            tokens.push_back(std::move(t));
            i = j;
        } else {
            tokens.emplace_back(Token::Kind::Literal, c);
        }
    }
    return tokens;
}

NamePattern::NamePattern(std::string pattern) : text_(std::move(pattern)) {
    if (text_.rfind(kRegexPrefix, 0) == 0) {
        const std::string body = text_.substr(std::string(kRegexPrefix).size());
        try {
            regex_ = std::make_shared<const std::regex>(body, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            throw Error(cat_str("NamePattern: pattern \"", text_, "\" is not a valid ECMAScript regex: ", e.what()));
        }
    } else {
        glob_ = parse_glob(text_);
    }
}

// Iterative wildcard matching: on a mismatch, the last '*' swallows one more
// character and matching resumes after it. Linear in practice, never exponential.
bool NamePattern::glob_matches(const std::string& name) const {
    size_t p = 0, n = 0, star = std::string::npos, mark = 0;
    while (n < name.size()) {
        if (p < glob_.size() && glob_[p].kind == Token::Kind::AnyRun) {
            star = p++;
            mark = n;
        } else if (p < glob_.size() && glob_[p].accepts(name[n])) {
            ++p;
            ++n;
        } else if (star != std::string::npos) {
            p = star + 1;
            n = ++mark;
        } else {
            return false;
        }
    }
    while (p < glob_.size() && glob_[p].kind == Token::Kind::AnyRun) ++p;
    return p == glob_.size();
}

bool NamePattern::matches(const std::string& name) const {
    return regex_ ? std::regex_match(name, *regex_) : glob_matches(name);
}

bool NamePattern::matches_or_within(const std::string& name) const {
    if (matches(name)) return true;
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
        if (matches(name.substr(0, dot))) return true;
    return false;
}

}  // namespace graft::transfer
