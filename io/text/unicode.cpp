// Unicode lookups over the generated range tables (unicode_tables.inc): a flag
// byte per code point (the Basic Multilingual Plane expanded into a 64 KiB
// array at compile time, the other planes by binary search), lower-casing,
// NFD, and strict UTF-8 decoding.
#include "io/text/unicode.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/error.h"

namespace graft::io::unicode {

namespace {

struct FlagRange {
    char32_t first;
    uint8_t flags;
};
struct LowerRun {
    char32_t first, last;
    int32_t delta;
    uint8_t stride;
};
struct LowerSpecial {
    char32_t cp;
    char32_t lower[2];
};
struct Decomposition {
    char32_t cp;
    uint16_t offset;
    uint8_t length;
};
struct CombiningRange {
    char32_t first, last;
    uint8_t ccc;
};

#include "io/text/unicode_tables.inc"

constexpr char32_t kMaxCodePoint = 0x10FFFF;

constexpr std::array<uint8_t, 0x10000> expand_bmp() {
    std::array<uint8_t, 0x10000> table{};
    size_t n = std::size(kFlagRanges);
    for (size_t i = 0; i < n && kFlagRanges[i].first < 0x10000; ++i) {
        char32_t end = i + 1 < n ? std::min<char32_t>(kFlagRanges[i + 1].first, 0x10000) : 0x10000;
        for (char32_t cp = kFlagRanges[i].first; cp < end; ++cp) table[cp] = kFlagRanges[i].flags;
    }
    return table;
}

// Most text lives in the BMP; one indexed load answers it.
constexpr std::array<uint8_t, 0x10000> kBmpFlags = expand_bmp();

// Hangul syllables decompose by arithmetic (Unicode 3.12).
constexpr char32_t kHangulFirst = 0xAC00, kHangulCount = 11172;
constexpr char32_t kJamoL = 0x1100, kJamoV = 0x1161, kJamoT = 0x11A7;
constexpr char32_t kJamoVCount = 21, kJamoTCount = 28;

void append_hangul(char32_t cp, std::u32string& out) {
    char32_t s = cp - kHangulFirst;
    out.push_back(kJamoL + s / (kJamoVCount * kJamoTCount));
    out.push_back(kJamoV + (s % (kJamoVCount * kJamoTCount)) / kJamoTCount);
    if (s % kJamoTCount != 0) out.push_back(kJamoT + s % kJamoTCount);
}

void append_decomposition(char32_t cp, std::u32string& out) {
    if (cp - kHangulFirst < kHangulCount) return append_hangul(cp, out);
    const auto* end = std::end(kDecompositions);
    const auto* it = std::lower_bound(std::begin(kDecompositions), end, cp,
                                      [](const Decomposition& d, char32_t c) { return d.cp < c; });
    if (it == end || it->cp != cp) {
        out.push_back(cp);
        return;
    }
    out.append(kDecompositionPool + it->offset, it->length);
}

// Canonical ordering: within each run of non-starters, a stable sort by
// class. Runs are short (a few marks), so insertion sort it is.
void reorder_marks(std::u32string& s, size_t from) {
    for (size_t i = from; i < s.size();) {
        if (combining_class(s[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && combining_class(s[j]) != 0) ++j;
        for (size_t k = i + 1; k < j; ++k) {
            char32_t c = s[k];
            uint8_t cc = combining_class(c);
            size_t m = k;
            for (; m > i && combining_class(s[m - 1]) > cc; --m) s[m] = s[m - 1];
            s[m] = c;
        }
        i = j;
    }
}

[[noreturn]] void throw_invalid(const char* op, std::string_view text, size_t at, size_t base) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", unsigned(static_cast<unsigned char>(text[at])));
    throw Error(cat_str(op, ": invalid UTF-8 at byte ", base + at, " (", hex, ")"));
}

// Length of the well-formed sequence starting at text[i] (Unicode table 3-7),
// or 0 if there is none.
size_t sequence_length(std::string_view text, size_t i) {
    auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
    unsigned b0 = byte(i);
    auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
        unsigned b = byte(k);
        return b >= lo && b <= hi;
    };
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;  // no overlongs, no surrogates
        return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;  // no overlongs, <= U+10FFFF
        return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    return 0;
}

}  // namespace

uint8_t flags(char32_t cp) {
    if (cp < 0x10000) return kBmpFlags[cp];
    if (cp > kMaxCodePoint) return 0;
    const auto* it = std::upper_bound(std::begin(kFlagRanges), std::end(kFlagRanges), cp,
                                      [](char32_t c, const FlagRange& r) { return c < r.first; });
    return (it - 1)->flags;  // kFlagRanges starts at U+0000, so it > begin
}

uint8_t combining_class(char32_t cp) {
    if (!(flags(cp) & kCombining)) return 0;
    const auto* it = std::upper_bound(std::begin(kCombiningRanges), std::end(kCombiningRanges), cp,
                                      [](char32_t c, const CombiningRange& r) { return c < r.first; });
    return it != std::begin(kCombiningRanges) && cp <= (it - 1)->last ? (it - 1)->ccc : 0;
}

void append_lower(char32_t cp, std::u32string& out) {
    if (!(flags(cp) & kLowers)) {
        out.push_back(cp);
        return;
    }
    for (const LowerSpecial& s : kLowerSpecial) {
        if (s.cp == cp) {
            out.append(s.lower, 2);
            return;
        }
    }
    const auto* it = std::upper_bound(std::begin(kLowerRuns), std::end(kLowerRuns), cp,
                                      [](char32_t c, const LowerRun& r) { return c < r.first; });
    if (it != std::begin(kLowerRuns)) {
        const LowerRun& run = *(it - 1);
        if (cp <= run.last && (cp - run.first) % run.stride == 0) {
            out.push_back(char32_t(int32_t(cp) + run.delta));
            return;
        }
    }
    out.push_back(cp);  // unreachable with consistent tables
}

void append_nfd(const char32_t* begin, const char32_t* end, std::u32string& out) {
    size_t from = out.size();
    uint8_t seen = 0;
    for (const char32_t* p = begin; p != end; ++p) {
        uint8_t f = flags(*p);
        if (f & kDecomposes) {
            append_decomposition(*p, out);
            seen |= kCombining;  // a decomposition may end in marks; let reorder look
        } else {
            out.push_back(*p);
            seen |= f;
        }
    }
    if (seen & kCombining) reorder_marks(out, from);
}

size_t find_invalid_utf8(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t n = sequence_length(text, i);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

void decode_utf8(std::string_view text, std::u32string& out, const char* op, size_t base_offset) {
    for (size_t i = 0; i < text.size();) {
        auto b0 = static_cast<unsigned char>(text[i]);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        size_t n = sequence_length(text, i);
        if (n == 0) throw_invalid(op, text, i, base_offset);
        char32_t cp = b0 & (0xFF >> (n + 1));
        for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        out.push_back(cp);
        i += n;
    }
}

}  // namespace graft::io::unicode
