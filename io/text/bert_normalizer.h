// BERT's text normalizer and pre-tokenizer, step for step as Hugging Face
// tokenizers runs them (BertNormalizer, then BertPreTokenizer):
//   1. clean_text: drop U+0000, U+FFFD and control characters; whitespace -> ' '
//   2. handle_chinese_chars: put a space on each side of every CJK ideograph
//   3. strip_accents: NFD, then drop non-spacing marks (Mn)
//   4. lowercase: full per-character lower-case mapping
//   5. split on whitespace, and split off every punctuation character as a
//      word of its own.
// Note the order of 3 and 4: tokenizers strips before lower-casing (the
// original BERT code lower-cased first); the results agree for every code point.
// Character classes come from io/text/unicode.h.
//
// Not here: WordPiece itself (wordpiece.h), special tokens, offsets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/text/unicode.h"

namespace graft::io {

struct BertNormalizerOptions {
    bool clean_text = true;
    bool handle_chinese_chars = true;
    bool strip_accents = true;
    bool lowercase = true;
};

class BertNormalizer {
public:
    explicit BertNormalizer(const BertNormalizerOptions& options);

    // Normalizes `text` (valid UTF-8; `op` names the caller in the error for
    // invalid input, `base_offset` shifts the byte offset it reports) and calls
    // on_word(std::string_view utf8, size_t n_chars) for each word in order.
    // Buffers are members, so one BertNormalizer must not be shared by threads.
    template <typename OnWord>
    void split_words(std::string_view text, const char* op, size_t base_offset, OnWord&& on_word);

    const BertNormalizerOptions& options() const { return options_; }

private:
    // Byte classes for the ASCII fast path.
    enum AsciiClass : uint8_t { kKeep, kDrop, kSpace, kPunct };

    bool is_ascii(std::string_view text) const;
    // The general path: steps 1-4 into cps_, code point by code point.
    void normalize(std::string_view text, const char* op, size_t base_offset);

    BertNormalizerOptions options_;
    std::array<AsciiClass, 128> ascii_class_{};
    std::u32string cps_, tmp_;
    std::string word_;
};

template <typename OnWord>
void BertNormalizer::split_words(std::string_view text, const char* op, size_t base_offset, OnWord&& on_word) {
    word_.clear();
    size_t n_chars = 0;
    auto flush = [&] {
        if (!word_.empty()) on_word(std::string_view(word_), n_chars);
        word_.clear();
        n_chars = 0;
    };
    if (is_ascii(text)) {
        // Steps 1-5 on bytes: nothing in ASCII decomposes, is CJK or lower-cases
        // to more than one byte.
        for (char c : text) {
            switch (ascii_class_[static_cast<unsigned char>(c)]) {
            case kDrop: break;
            case kSpace: flush(); break;
            case kPunct:
                flush();
                word_.push_back(c);
                n_chars = 1;
                flush();
                break;
            case kKeep:
                word_.push_back(options_.lowercase && c >= 'A' && c <= 'Z' ? char(c + 32) : c);
                ++n_chars;
                break;
            }
        }
        flush();
        return;
    }
    normalize(text, op, base_offset);
    for (char32_t cp : cps_) {
        uint8_t f = unicode::flags(cp);
        if (f & unicode::kWhitespace) {
            flush();
        } else if (f & unicode::kPunctuation) {
            flush();
            unicode::append_utf8(cp, word_);
            n_chars = 1;
            flush();
        } else {
            unicode::append_utf8(cp, word_);
            ++n_chars;
        }
    }
    flush();
}

}  // namespace graft::io
