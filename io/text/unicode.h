// Unicode for tokenizers: strict UTF-8 decoding and encoding, and the character
// properties that BERT's normalizer and pre-tokenizer ask about (whitespace,
// control, punctuation, CJK ideograph, non-spacing mark), lower-casing and
// canonical decomposition (NFD).
//
// The data are range tables generated from Python's unicodedata by
// tools/gen_unicode_tables.py into unicode_tables.inc. They reproduce the
// mixed Unicode versions of Hugging Face's Rust `tokenizers`, which is what
// BERT-family checkpoints are used with: categories as of Unicode 8.0,
// decompositions and combining classes as of 9.0, lower-casing and
// White_Space from Rust's std. The generator's docstring says why and how it
// was checked (every code point against tokenizers 0.23.3: the only
// differences are 55 case pairs new in Unicode 16).
//
// Not here: NFC/NFKC/NFKD, case folding, grapheme or word segmentation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace graft::io::unicode {

// Property bits of one code point (flags()).
enum Flag : uint8_t {
    kWhitespace = 1,       // Unicode White_Space (what Rust's char::is_whitespace says)
    kControl = 2,          // Cc, Cf, Co or Cs, except \t \n \r (BERT counts those as whitespace)
    kPunctuation = 4,      // P* or ASCII 33-47, 58-64, 91-96, 123-126 (so $ ^ + ` count)
    kNonspacingMark = 8,   // Mn: dropped when accents are stripped
    kCjk = 16,             // BERT's "Chinese character" blocks; spaced out by the normalizer
    kDecomposes = 32,      // has a canonical decomposition (Hangul syllables included)
    kCombining = 64,       // canonical combining class other than 0
    kLowers = 128,         // lower-casing changes it
};

// All property bits of `cp` (0 for anything beyond U+10FFFF).
uint8_t flags(char32_t cp);

inline bool is_whitespace(char32_t cp) { return flags(cp) & kWhitespace; }
inline bool is_control(char32_t cp) { return flags(cp) & kControl; }
inline bool is_punctuation(char32_t cp) { return flags(cp) & kPunctuation; }
inline bool is_cjk(char32_t cp) { return flags(cp) & kCjk; }
inline bool is_nonspacing_mark(char32_t cp) { return flags(cp) & kNonspacingMark; }

// Canonical combining class (0 for starters and unknown code points).
uint8_t combining_class(char32_t cp);

// Appends the full lower-case mapping of `cp` (one code point, or two for
// U+0130). Per character, like Rust's char::to_lowercase: no final-sigma rule.
void append_lower(char32_t cp, std::u32string& out);

// Appends the canonical decomposition (NFD) of [begin, end): each character
// fully decomposed, Hangul syllables by the algorithm, then every run of
// non-starters stably sorted by combining class.
void append_nfd(const char32_t* begin, const char32_t* end, std::u32string& out);

// Appends the code points of `text`. Input must be well-formed UTF-8 (no
// overlong forms, surrogates or values past U+10FFFF, no cut-off sequence);
// otherwise throws graft::Error "<op>: invalid UTF-8 at byte <offset> (0x..)",
// the offset counted from the start of `text` plus `base_offset` (for callers
// that decode a slice of a larger string).
void decode_utf8(std::string_view text, std::u32string& out, const char* op, size_t base_offset = 0);

// Returns the byte offset of the first ill-formed sequence, or npos.
size_t find_invalid_utf8(std::string_view text);

// Appends the UTF-8 encoding of `cp` (which must be a scalar value).
inline void append_utf8(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

}  // namespace graft::io::unicode
