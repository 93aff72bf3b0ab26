// BertNormalizer: the byte-class table for ASCII input and the general path
// (decode, clean, space CJK, strip accents, lower-case) for everything else.
// Each later step runs only if some character of the text needs it, which
// the flags collected in the earlier steps tell.
#include "io/text/bert_normalizer.h"

#include <utility>

namespace graft::io {

BertNormalizer::BertNormalizer(const BertNormalizerOptions& options) : options_(options) {
    for (char32_t b = 0; b < 128; ++b) {
        uint8_t f = unicode::flags(b);
        if (options_.clean_text && (b == 0 || (f & unicode::kControl)))
            ascii_class_[b] = kDrop;
        else if (f & unicode::kWhitespace)
            ascii_class_[b] = kSpace;
        else if (f & unicode::kPunctuation)
            ascii_class_[b] = kPunct;
        else
            ascii_class_[b] = kKeep;
    }
}

bool BertNormalizer::is_ascii(std::string_view text) const {
    unsigned char any = 0;
    for (char c : text) any |= static_cast<unsigned char>(c);
    return any < 0x80;
}

void BertNormalizer::normalize(std::string_view text, const char* op, size_t base_offset) {
    using namespace unicode;
    tmp_.clear();
    decode_utf8(text, tmp_, op, base_offset);

    // 1 + 2: clean, space out CJK.
    cps_.clear();
    uint8_t seen = 0;
    for (char32_t cp : tmp_) {
        uint8_t f = flags(cp);
        if (options_.clean_text) {
            if (cp == 0 || cp == 0xFFFD || (f & kControl)) continue;
            if (f & kWhitespace) {
                cp = U' ';
                f = flags(cp);
            }
        }
        if (options_.handle_chinese_chars && (f & kCjk)) {
            cps_.push_back(U' ');
            cps_.push_back(cp);
            cps_.push_back(U' ');
        } else {
            cps_.push_back(cp);
        }
        seen |= f;
    }

    // 3: NFD, then drop the non-spacing marks.
    if (options_.strip_accents && (seen & (kDecomposes | kCombining | kNonspacingMark))) {
        tmp_.clear();
        append_nfd(cps_.data(), cps_.data() + cps_.size(), tmp_);
        cps_.clear();
        seen = 0;
        for (char32_t cp : tmp_) {
            uint8_t f = flags(cp);
            if (f & kNonspacingMark) continue;
            cps_.push_back(cp);
            seen |= f;
        }
    }

    // 4: lower-case.
    if (options_.lowercase && (seen & kLowers)) {
        tmp_.clear();
        for (char32_t cp : cps_) append_lower(cp, tmp_);
        std::swap(cps_, tmp_);
    }
}

}  // namespace graft::io
