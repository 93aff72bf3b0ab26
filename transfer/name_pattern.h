// NamePattern: which dotted names ("layer1.0.conv1.weight") a user means, written
// as a glob or a regular expression. freeze/unfreeze and load_pretrained's skip
// list take their patterns through this class, so every name-taking API in
// transfer/ reads patterns the same way.
//
//   NamePattern("layer[1-3]*").matches("layer2.0.bn1.weight")    // true
//   NamePattern("*.bias").matches("fc.bias")                      // true
//   NamePattern("re:layer[34]\\.\\d+\\.conv\\d\\.weight")         // ECMAScript regex
//   NamePattern("layer1").matches_or_within("layer1.0.conv1.weight")  // true: a module name
//
// Glob syntax (matched against the whole name):
//   *        any run of characters, dots included ("layer*" covers "layer1.0.conv1.weight")
//   ?        exactly one character
//   [abc]    one of the listed characters; ranges as [a-z] or [1-3]; [!abc] or [^abc]
//            negates; a ']' right after '[' (or '[!') is a literal member
//   \c       the character c itself (to match a literal '*', '?' or '[')
// Every other character matches itself. A pattern written "re:<regex>" is an
// ECMAScript regular expression that must match the whole name (std::regex_match).
// A malformed pattern (an unclosed '[', a bad range, a regex that does not
// compile) is a graft::Error naming the pattern, thrown by the constructor.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace graft::transfer {

class NamePattern {
public:
    explicit NamePattern(std::string pattern);

    // Whether the whole of `name` matches.
    bool matches(const std::string& name) const;
    // Whether `name` or one of its dotted prefixes matches: "layer1" covers
    // "layer1.0.conv1.weight" (but not "layer10.weight"), so a module's name
    // stands for everything under it.
    bool matches_or_within(const std::string& name) const;
    // The pattern as written (with its "re:" prefix, if any).
    const std::string& text() const { return text_; }
    bool is_regex() const { return regex_ != nullptr; }

private:
    // One glob position: a literal character, '?', '*', or a character class.
    struct Token {
        enum class Kind { Literal, AnyOne, AnyRun, Class };
        explicit Token(Kind k, char c = 0) : kind(k), literal(c) {}
        Kind kind;
        char literal;
        bool negated = false;
        std::vector<std::pair<char, char>> ranges;  // inclusive; single chars as {c, c}
        bool accepts(char c) const;
    };
    static std::vector<Token> parse_glob(const std::string& glob);
    bool glob_matches(const std::string& name) const;

    std::string text_;
    std::vector<Token> glob_;
    std::shared_ptr<const std::regex> regex_;  // set for "re:" patterns
};

}  // namespace graft::transfer
