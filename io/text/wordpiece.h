// WordPieceTokenizer: the tokenizer of BERT-family models (BERT, MiniLM,
// DistilBERT, ...), giving the same ids as Hugging Face tokenizers for the
// same vocabulary and options.
//
//   auto tok = graft::io::WordPieceTokenizer::from_vocab_file("vocab.txt");
//   auto enc = tok.encode("Hello, world!");          // [CLS] hello , world ! [SEP]
//   auto pair = tok.encode("A question?", "Its answer.", {.max_length = 128});
//   auto batch = tok.encode_batch(texts, {.max_length = 128, .padding = Padding::MaxLength});
//   // batch.input_ids, batch.attention_mask, batch.token_type_ids: [B, T] int64
//
// Steps (io/text/bert_normalizer.h has the normalizer's details):
//   1. special-token strings in the raw text ("[MASK]", "[SEP]", ...) become
//      their ids directly, as HF does with its added tokens (case-sensitive,
//      leftmost-longest); the text between them goes through 2-4;
//   2. BertNormalizer + BertPreTokenizer: clean, space CJK, strip accents,
//      lower-case, split on whitespace and punctuation;
//   3. WordPiece per word: a word of more than max_input_chars_per_word
//      characters is [UNK]; otherwise greedy longest match from the left,
//      pieces after the first looked up with the "##" prefix; if some position
//      matches nothing, the whole word is [UNK];
//   4. truncation (HF's longest_first / only_first / only_second, counted
//      without the special tokens), then [CLS] A [SEP] (B [SEP]) with
//      token_type_ids 0 for A and 1 for B, then padding with [PAD] (type 0,
//      mask 0) on the right.
//
// Errors (graft::Error): a missing or unreadable vocabulary names the path; a
// vocabulary without the unk, cls or sep token names the token; invalid UTF-8
// names the byte offset; impossible truncation or padding requests name the
// lengths; decode refuses ids outside the vocabulary.
//
// Not here: offsets/alignments, overflowing tokens and stride, padding on the
// left, pad_to_multiple_of, user-added tokens, BPE/Unigram models.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "io/text/bert_normalizer.h"
#include "io/text/vocab_trie.h"

namespace graft::io {

struct WordPieceOptions {
    bool lowercase = true;
    std::optional<bool> strip_accents;  // unset: follows lowercase (HF's rule)
    bool handle_chinese_chars = true;
    bool clean_text = true;
    int64_t max_input_chars_per_word = 100;
    std::string continuing_subword_prefix = "##";
    std::string unk_token = "[UNK]";
    std::string cls_token = "[CLS]";
    std::string sep_token = "[SEP]";
    std::string pad_token = "[PAD]";
    std::string mask_token = "[MASK]";
    // false (HF's default): special-token strings in the text map to their
    // ids. true: they are normalized and split like any other text.
    bool split_special_tokens = false;
};

enum class Truncation { None, LongestFirst, OnlyFirst, OnlySecond };
// Longest: to the longest sequence of the batch (for one text: no padding).
// MaxLength: every sequence to max_length.
enum class Padding { None, Longest, MaxLength };

struct EncodeOptions {
    std::optional<int64_t> max_length;  // unset: no truncation, no MaxLength padding
    Truncation truncation = Truncation::LongestFirst;  // used only with max_length
    Padding padding = Padding::Longest;
    bool add_special_tokens = true;
};

struct Encoding {
    std::vector<int64_t> ids;
    std::vector<int64_t> type_ids;        // 0 for the first text (with [CLS] and its [SEP]), 1 for the pair
    std::vector<int64_t> attention_mask;  // 1 for tokens, 0 for padding
    size_t size() const { return ids.size(); }
};

struct BatchEncoding {
    Tensor input_ids;       // [B, T] int64
    Tensor attention_mask;  // [B, T] int64
    Tensor token_type_ids;  // [B, T] int64
};

class WordPieceTokenizer {
public:
    // vocab.txt: one token per line, id = line index; trailing whitespace and
    // "\r" are trimmed as HF does.
    static WordPieceTokenizer from_vocab_file(const std::string& path, const WordPieceOptions& options = {});
    // A Hugging Face tokenizer.json with BertNormalizer, BertPreTokenizer, a
    // WordPiece model and TemplateProcessing or BertProcessing; the options
    // come from the file. Other pipelines are refused with an Error.
    static WordPieceTokenizer from_tokenizer_json(const std::string& path);
    // tokens[i] has id i. `source` names the vocabulary in error messages.
    WordPieceTokenizer(std::vector<std::string> tokens, const WordPieceOptions& options,
                       const std::string& source = "<vocabulary>");

    Encoding encode(std::string_view text, std::optional<std::string_view> pair = std::nullopt,
                    const EncodeOptions& options = {}) const;
    // Encodes every text (optionally with pairs[i]), in parallel over the
    // texts; Padding::Longest pads to the longest of the batch.
    std::vector<Encoding> encode_each(const std::vector<std::string>& texts, const EncodeOptions& options = {},
                                      const std::vector<std::string>* pairs = nullptr) const;
    // encode_each packed into [B, T] tensors. The sequences must come out of
    // equal length, which any padding other than None (or equal inputs) gives.
    BatchEncoding encode_batch(const std::vector<std::string>& texts, const EncodeOptions& options = {}) const;
    BatchEncoding encode_batch(const std::vector<std::string>& texts, const std::vector<std::string>& pairs,
                               const EncodeOptions& options = {}) const;

    // The word pieces of `text`, without special tokens or truncation.
    std::vector<std::string> tokenize(std::string_view text) const;
    // HF's WordPiece decoder: pieces joined by spaces, "##" pieces glued to
    // the previous one, " ." " ," " !" " ?" cleaned up; special tokens skipped
    // unless asked for.
    std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = true) const;
    std::vector<std::string> convert_ids_to_tokens(const std::vector<int64_t>& ids) const;

    std::optional<int64_t> token_to_id(std::string_view token) const;
    const std::string& id_to_token(int64_t id) const;
    int64_t vocab_size() const { return int64_t(tokens_.size()); }
    int64_t unk_id() const { return unk_id_; }
    int64_t cls_id() const { return cls_id_; }
    int64_t sep_id() const { return sep_id_; }
    std::optional<int64_t> pad_id() const;   // unset when the vocabulary has no pad token
    std::optional<int64_t> mask_id() const;  // unset when the vocabulary has no mask token
    const WordPieceOptions& options() const { return options_; }

private:
    struct Special {
        std::string text;
        int32_t id;
    };
    class Worker;  // per-thread buffers; wordpiece.cpp

    int64_t checked_id(int64_t id, const char* op) const;
    bool is_special(int64_t id) const;

    std::string source_;
    WordPieceOptions options_;
    BertNormalizerOptions normalizer_options_;
    std::vector<std::string> tokens_;
    std::unordered_map<std::string, int32_t> token_ids_;
    VocabTrie first_pieces_;         // every entry
    VocabTrie continuation_pieces_;  // entries that start with the prefix, prefix removed
    std::vector<Special> specials_;  // in the vocabulary, longest first
    std::string special_firsts_;     // their first bytes, for a quick scan
    int32_t unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, mask_id_ = -1;
};

}  // namespace graft::io
