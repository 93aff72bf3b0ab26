// io/text/unicode: strict UTF-8 (every scalar value round-trips, every kind of
// ill-formed sequence is refused with its offset), and spot checks of the
// generated tables where BERT and Unicode versions make a difference. The
// tables as a whole are checked against tokenizers by
// tools/gen_unicode_tables.py --verify-hf; the fixture cases check them in use.
#include <catch2/catch.hpp>

#include "graft.h"
#include "io/text/unicode.h"

using namespace graft;
using namespace graft::io::unicode;
using Catch::Matchers::Contains;

TEST_CASE("unicode: every scalar value round-trips through UTF-8", "[io][unicode]") {
    std::string bytes;
    std::u32string expected;
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        append_utf8(cp, bytes);
        expected.push_back(cp);
    }
    std::u32string decoded;
    decode_utf8(bytes, decoded, "test");
    CHECK(decoded == expected);
    CHECK(find_invalid_utf8(bytes) == std::string::npos);
}

TEST_CASE("unicode: ill-formed UTF-8 is refused at its byte offset", "[io][unicode]") {
    struct Bad {
        std::string bytes;
        size_t offset;
    };
    const Bad cases[] = {
        {"ab\x80", 2},              // lone continuation byte
        {"\xc0\x80", 0},            // overlong NUL
        {"\xc1\xbf", 0},            // overlong
        {"x\xe0\x9f\xbf", 1},       // overlong 3-byte
        {"\xed\xa0\x80", 0},        // surrogate U+D800
        {"\xf0\x8f\xbf\xbf", 0},    // overlong 4-byte
        {"\xf4\x90\x80\x80", 0},    // past U+10FFFF
        {"\xf5\x80\x80\x80", 0},    // invalid lead
        {"ok\xe2\x82", 2},          // cut off
        {"\xc3", 0},                // cut off at the end
        {"\xe2\x28\xa1", 0},        // bad continuation
    };
    for (const Bad& bad : cases) {
        INFO("offset " << bad.offset);
        CHECK(find_invalid_utf8(bad.bytes) == bad.offset);
        std::u32string out;
        CHECK_THROWS_WITH(decode_utf8(bad.bytes, out, "op", 10),
                          Contains("op: invalid UTF-8 at byte " + std::to_string(10 + bad.offset)));
    }
}

TEST_CASE("unicode: BERT's character classes", "[io][unicode]") {
    for (char32_t c : {U' ', U'\t', U'\n', U'\r', U'\u00a0', U'\u3000', U'\u2028'}) CHECK(is_whitespace(c));
    CHECK_FALSE(is_whitespace(U'\u200b'));  // zero width space is Cf, not White_Space
    for (char32_t c : {U'\x00', U'\x7f', U'\u200b', U'\ufeff', U'\ue000', U'\u0085'}) CHECK(is_control(c));
    for (char32_t c : {U'\t', U'\n', U'\r', U'a'}) CHECK_FALSE(is_control(c));
    for (char32_t c : {U'$', U'^', U'`', U'+', U'~', U'\u00bf', U'\u2014', U'\u3002', U'\u166d'})
        CHECK(is_punctuation(c));
    CHECK_FALSE(is_punctuation(U'\u2e43'));  // Unicode 9.0: after tokenizers' category tables
    CHECK(is_cjk(U'\u4e2d'));
    CHECK(is_cjk(U'\U0002b920'));
    CHECK_FALSE(is_cjk(U'\U0002b820'));  // tokenizers' range starts at 2B920, not BERT's 2B820
    CHECK_FALSE(is_cjk(U'\u3042'));      // hiragana
    CHECK(is_nonspacing_mark(U'\u0301'));
    CHECK(is_nonspacing_mark(U'\u1734'));  // Mn in Unicode 8.0, Mc since 14.0
    CHECK(flags(0x110000) == 0);
}

TEST_CASE("unicode: lower-casing and NFD", "[io][unicode]") {
    auto lower = [](std::u32string s) {
        std::u32string out;
        for (char32_t c : s) append_lower(c, out);
        return out;
    };
    CHECK(lower(U"ABC\u00c9\u0394\u03a3\u0401") == U"abc\u00e9\u03b4\u03c3\u0451");  // no final sigma
    CHECK(lower(U"\u0130") == U"i\u0307");                                           // the one 1:2 mapping
    CHECK(lower(U"\u1e9e\u2126\u212a") == U"\u00df\u03c9k");
    auto nfd = [](std::u32string s) {
        std::u32string out;
        append_nfd(s.data(), s.data() + s.size(), out);
        return out;
    };
    CHECK(nfd(U"\u00e9") == U"e\u0301");
    CHECK(nfd(U"\u1e69") == U"s\u0323\u0307");          // recursive: dot above over dot below
    CHECK(nfd(U"a\u0301\u0323") == U"a\u0323\u0301");   // canonical order: 220 before 230
    CHECK(nfd(U"\ud55c") == U"\u1112\u1161\u11ab");     // Hangul syllable, with a final
    CHECK(nfd(U"\uac00") == U"\u1100\u1161");           // and without
    CHECK(nfd(U"\uf900") == U"\u8c48");                 // CJK compatibility ideograph
    CHECK(nfd(U"\U00011938") == U"\U00011938");         // decomposes only since Unicode 13
    CHECK(combining_class(U'\u0301') == 230);
    CHECK(combining_class(U'a') == 0);
}
