// WordPieceTokenizer: construction from a token list, the per-thread Worker
// that turns text into piece ids (special-token split, BertNormalizer,
// greedy longest match), and the assembly of model inputs: truncation as HF's
// truncate_encodings, [CLS]/[SEP] template, padding, batches, decoding.
// Reading vocab.txt and tokenizer.json lives in wordpiece_load.cpp.
#include "io/text/wordpiece.h"

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "kernels/parallel.h"

namespace graft::io {

namespace {

constexpr const char* kEncode = "WordPieceTokenizer::encode";

// HF's truncate_encodings (tokenizers/src/utils/truncation.rs) on id lists,
// `limit` already net of the special tokens.
void truncate(std::vector<int32_t>& a, std::vector<int32_t>* b, size_t limit, Truncation strategy) {
    if (limit == 0) {  // HF empties both, whatever the strategy
        a.clear();
        if (b) b->clear();
        return;
    }
    size_t total = a.size() + (b ? b->size() : 0);
    if (total <= limit) return;
    size_t to_remove = total - limit;
    if (strategy == Truncation::LongestFirst) {
        if (!b) {
            a.resize(limit);
            return;
        }
        size_t n1 = a.size(), n2 = b->size();
        bool swapped = n1 > n2;
        if (swapped) std::swap(n1, n2);  // n1: the shorter
        n2 = n1 > limit ? n1 : std::max(n1, limit - n1);
        if (n1 + n2 > limit) {  // both must give: split the budget, the odd token to the longer
            n1 = limit / 2;
            n2 = n1 + limit % 2;
        }
        if (swapped) std::swap(n1, n2);
        a.resize(std::min(a.size(), n1));
        b->resize(std::min(b->size(), n2));
        return;
    }
    std::vector<int32_t>* target = strategy == Truncation::OnlyFirst ? &a : b;
    check(target != nullptr, kEncode, "only_second truncation needs a text pair");
    check(target->size() > to_remove, kEncode, "cannot truncate the ",
          strategy == Truncation::OnlyFirst ? "first" : "second", " sequence (", target->size(),
          " tokens) by ", to_remove, " tokens to respect max_length; try longest_first");
    target->resize(target->size() - to_remove);
}

void append_segment(Encoding& e, const std::vector<int32_t>& ids, int64_t type_id, int64_t sep) {
    for (int32_t id : ids) e.ids.push_back(id);
    if (sep >= 0) e.ids.push_back(sep);
    e.type_ids.resize(e.ids.size(), type_id);
}

void pad_to(Encoding& e, size_t length, int64_t pad_id) {
    if (e.size() >= length) return;
    e.ids.resize(length, pad_id);
    e.type_ids.resize(length, 0);
    e.attention_mask.resize(length, 0);
}

}  // namespace

// ---- construction ---------------------------------------------------------

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> tokens, const WordPieceOptions& options,
                                       const std::string& source)
    : source_(source), options_(options), tokens_(std::move(tokens)) {
    const char* op = "WordPieceTokenizer";
    check(options_.max_input_chars_per_word > 0, op, source_, ": max_input_chars_per_word must be positive, got ",
          options_.max_input_chars_per_word);
    check(tokens_.size() < size_t(INT32_MAX), op, source_, ": too many tokens (", tokens_.size(), ")");
    normalizer_options_ = {options_.clean_text, options_.handle_chinese_chars,
                           options_.strip_accents.value_or(options_.lowercase), options_.lowercase};
    for (size_t i = 0; i < tokens_.size(); ++i) token_ids_[tokens_[i]] = int32_t(i);  // a repeat keeps the last id

    auto require = [&](const std::string& token, const char* role) {
        auto it = token_ids_.find(token);
        check(it != token_ids_.end(), op, source_, ": the vocabulary has no ", role, " token '", token, "'");
        return it->second;
    };
    auto optional_id = [&](const std::string& token) {
        auto it = token_ids_.find(token);
        return it == token_ids_.end() ? -1 : it->second;
    };
    unk_id_ = require(options_.unk_token, "unk");
    cls_id_ = require(options_.cls_token, "cls");
    sep_id_ = require(options_.sep_token, "sep");
    pad_id_ = optional_id(options_.pad_token);
    mask_id_ = optional_id(options_.mask_token);

    std::vector<std::pair<std::string_view, int32_t>> first, rest;
    const std::string& prefix = options_.continuing_subword_prefix;
    for (const auto& [token, id] : token_ids_) {
        std::string_view view(token);
        first.emplace_back(view, id);
        if (view.starts_with(prefix)) rest.emplace_back(view.substr(prefix.size()), id);
    }
    first_pieces_ = VocabTrie(first);
    continuation_pieces_ = VocabTrie(rest);

    for (const std::string* t : {&options_.unk_token, &options_.cls_token, &options_.sep_token,
                                 &options_.pad_token, &options_.mask_token}) {
        int32_t id = optional_id(*t);
        bool known = std::any_of(specials_.begin(), specials_.end(), [&](const Special& s) { return s.text == *t; });
        if (id >= 0 && !t->empty() && !known) specials_.push_back({*t, id});
    }
    std::stable_sort(specials_.begin(), specials_.end(),
                     [](const Special& x, const Special& y) { return x.text.size() > y.text.size(); });
    for (const Special& s : specials_)
        if (special_firsts_.find(s.text[0]) == std::string::npos) special_firsts_.push_back(s.text[0]);
}

// ---- text to piece ids ------------------------------------------------------

class WordPieceTokenizer::Worker {
public:
    explicit Worker(const WordPieceTokenizer& tok) : tok_(tok), normalizer_(tok.normalizer_options_) {}

    // Appends the ids of `text`; `op` names the caller in UTF-8 errors.
    void tokenize(std::string_view text, std::vector<int32_t>& ids, const char* op) {
        if (tok_.specials_.empty() || tok_.options_.split_special_tokens) return plain(text, 0, ids, op);
        size_t start = 0, pos = 0;  // start: of the text not yet tokenized
        while ((pos = text.find_first_of(tok_.special_firsts_, pos)) != text.npos) {
            const Special* hit = match_special(text, pos);
            if (!hit) {
                ++pos;
                continue;
            }
            plain(text.substr(start, pos - start), start, ids, op);
            ids.push_back(hit->id);
            start = pos = pos + hit->text.size();
        }
        plain(text.substr(start), start, ids, op);
    }

private:
    // The longest special token starting at text[pos] (specials_ is sorted so).
    const Special* match_special(std::string_view text, size_t pos) const {
        for (const Special& s : tok_.specials_)
            if (text.compare(pos, s.text.size(), s.text) == 0) return &s;
        return nullptr;
    }

    void plain(std::string_view text, size_t base, std::vector<int32_t>& ids, const char* op) {
        if (text.empty()) return;
        normalizer_.split_words(text, op, base,
                                [&](std::string_view word, size_t n_chars) { word_pieces(word, n_chars, ids); });
    }

    // Greedy longest match from the left; the whole word is [UNK] when too long
    // or when some position matches nothing.
    void word_pieces(std::string_view word, size_t n_chars, std::vector<int32_t>& ids) const {
        if (n_chars > size_t(tok_.options_.max_input_chars_per_word)) {
            ids.push_back(tok_.unk_id_);
            return;
        }
        size_t first_id = ids.size();
        for (size_t pos = 0; pos < word.size();) {
            const VocabTrie& trie = pos == 0 ? tok_.first_pieces_ : tok_.continuation_pieces_;
            VocabTrie::Match m = trie.longest_prefix(word.substr(pos));
            if (m.length == 0) {
                ids.resize(first_id);
                ids.push_back(tok_.unk_id_);
                return;
            }
            ids.push_back(m.id);
            pos += m.length;
        }
    }

    const WordPieceTokenizer& tok_;
    BertNormalizer normalizer_;
};

// ---- model inputs -------------------------------------------------------------

namespace {

// Truncation, then [CLS] A [SEP] (B [SEP]) and types; padding is the caller's.
Encoding assemble(std::vector<int32_t>& a, std::vector<int32_t>* b, const EncodeOptions& options,
                  int64_t cls, int64_t sep) {
    bool special = options.add_special_tokens;
    if (options.max_length && options.truncation != Truncation::None) {
        int64_t n_added = special ? (b ? 3 : 2) : 0;
        check(*options.max_length >= n_added, kEncode, "max_length ", *options.max_length,
              " leaves no room: the special tokens alone take ", n_added);
        truncate(a, b, size_t(*options.max_length - n_added), options.truncation);
    }
    Encoding e;
    e.ids.reserve(a.size() + (b ? b->size() : 0) + 3);
    if (special) e.ids.push_back(cls);
    append_segment(e, a, 0, special ? sep : -1);
    if (b) append_segment(e, *b, 1, special ? sep : -1);
    e.attention_mask.assign(e.ids.size(), 1);
    return e;
}

void check_options(const EncodeOptions& options) {
    check(!options.max_length || *options.max_length >= 0, kEncode, "max_length must be >= 0, got ",
          options.max_length.value_or(0));
    check(options.padding != Padding::MaxLength || options.max_length.has_value(), kEncode,
          "Padding::MaxLength needs max_length");
}

}  // namespace

Encoding WordPieceTokenizer::encode(std::string_view text, std::optional<std::string_view> pair,
                                    const EncodeOptions& options) const {
    check_options(options);
    Worker worker(*this);
    std::vector<int32_t> a, b;
    worker.tokenize(text, a, "WordPieceTokenizer::encode (text)");
    if (pair) worker.tokenize(*pair, b, "WordPieceTokenizer::encode (pair)");
    Encoding e = assemble(a, pair ? &b : nullptr, options, cls_id_, sep_id_);
    if (options.padding == Padding::MaxLength && e.size() < size_t(*options.max_length)) {
        check(pad_id_ >= 0, kEncode, source_, ": padding needs the pad token '", options_.pad_token,
              "', which is not in the vocabulary");
        pad_to(e, size_t(*options.max_length), pad_id_);
    }
    return e;
}

std::vector<Encoding> WordPieceTokenizer::encode_each(const std::vector<std::string>& texts,
                                                      const EncodeOptions& options,
                                                      const std::vector<std::string>* pairs) const {
    const char* op = "WordPieceTokenizer::encode_batch";
    check(!pairs || pairs->size() == texts.size(), op, texts.size(), " texts but ", pairs ? pairs->size() : 0,
          " pairs");
    check_options(options);
    std::vector<Encoding> out(texts.size());
    // Each chunk gets its own Worker: buffers are reused across its texts.
    parallel_for(0, int64_t(texts.size()), 16, [&](int64_t lo, int64_t hi) {
        Worker worker(*this);
        std::vector<int32_t> a, b;
        for (int64_t i = lo; i < hi; ++i) {
            a.clear();
            b.clear();
            try {
                worker.tokenize(texts[size_t(i)], a, "text");
                if (pairs) worker.tokenize((*pairs)[size_t(i)], b, "pair");
                out[size_t(i)] = assemble(a, pairs ? &b : nullptr, options, cls_id_, sep_id_);
            } catch (const Error& e) {
                throw Error(cat_str(op, ": item ", i, ": ", e.what()));
            }
        }
    });
    size_t length = 0;
    if (options.padding == Padding::MaxLength) length = size_t(*options.max_length);
    if (options.padding == Padding::Longest)
        for (const Encoding& e : out) length = std::max(length, e.size());
    bool needs_pad = std::any_of(out.begin(), out.end(), [&](const Encoding& e) { return e.size() < length; });
    check(!needs_pad || pad_id_ >= 0, op, source_, ": padding needs the pad token '", options_.pad_token,
          "', which is not in the vocabulary");
    for (Encoding& e : out) pad_to(e, length, pad_id_);
    return out;
}

namespace {

BatchEncoding pack(const std::vector<Encoding>& encodings) {
    int64_t batch = int64_t(encodings.size());
    int64_t length = batch ? int64_t(encodings[0].size()) : 0;
    for (int64_t i = 0; i < batch; ++i)
        check(int64_t(encodings[size_t(i)].size()) == length, "WordPieceTokenizer::encode_batch",
              "sequences of different lengths (item 0: ", length, ", item ", i, ": ",
              encodings[size_t(i)].size(), "); use Padding::Longest or Padding::MaxLength");
    BatchEncoding out{Tensor::empty({batch, length}, DType::Int64), Tensor::empty({batch, length}, DType::Int64),
                      Tensor::empty({batch, length}, DType::Int64)};
    int64_t* ids = out.input_ids.data<int64_t>();
    int64_t* mask = out.attention_mask.data<int64_t>();
    int64_t* types = out.token_type_ids.data<int64_t>();
    for (int64_t i = 0; i < batch; ++i) {
        const Encoding& e = encodings[size_t(i)];
        std::copy(e.ids.begin(), e.ids.end(), ids + i * length);
        std::copy(e.attention_mask.begin(), e.attention_mask.end(), mask + i * length);
        std::copy(e.type_ids.begin(), e.type_ids.end(), types + i * length);
    }
    return out;
}

}  // namespace

BatchEncoding WordPieceTokenizer::encode_batch(const std::vector<std::string>& texts,
                                               const EncodeOptions& options) const {
    return pack(encode_each(texts, options));
}

BatchEncoding WordPieceTokenizer::encode_batch(const std::vector<std::string>& texts,
                                               const std::vector<std::string>& pairs,
                                               const EncodeOptions& options) const {
    return pack(encode_each(texts, options, &pairs));
}

// ---- ids back to text -----------------------------------------------------------

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
    Worker worker(*this);
    std::vector<int32_t> ids;
    worker.tokenize(text, ids, "WordPieceTokenizer::tokenize");
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (int32_t id : ids) out.push_back(tokens_[size_t(id)]);
    return out;
}

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

// HF's decoders::wordpiece::cleanup, applied per piece as HF does.
void cleanup(std::string& piece) {
    static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
        {" .", "."},   {" ?", "?"},   {" !", "!"},     {" ,", ","},         {" ' ", "'"},  {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) replace_all(piece, from, to);
}

}  // namespace

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    const std::string& prefix = options_.continuing_subword_prefix;
    std::string out, piece;
    bool first = true;
    for (int64_t raw : ids) {
        int64_t id = checked_id(raw, "WordPieceTokenizer::decode");
        if (skip_special_tokens && is_special(id)) continue;
        const std::string& token = tokens_[size_t(id)];
        if (first)
            piece = token;
        else if (std::string_view(token).starts_with(prefix))
            piece = token.substr(prefix.size());
        else
            piece = " " + token;
        cleanup(piece);
        out += piece;
        first = false;
    }
    return out;
}

std::vector<std::string> WordPieceTokenizer::convert_ids_to_tokens(const std::vector<int64_t>& ids) const {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (int64_t id : ids) out.push_back(tokens_[size_t(checked_id(id, "WordPieceTokenizer::convert_ids_to_tokens"))]);
    return out;
}

// ---- lookups ------------------------------------------------------------------------

int64_t WordPieceTokenizer::checked_id(int64_t id, const char* op) const {
    check(id >= 0 && id < vocab_size(), op, "id ", id, " is outside the vocabulary [0, ", vocab_size(), ")");
    return id;
}

bool WordPieceTokenizer::is_special(int64_t id) const {
    return std::any_of(specials_.begin(), specials_.end(), [&](const Special& s) { return s.id == id; });
}

std::optional<int64_t> WordPieceTokenizer::token_to_id(std::string_view token) const {
    auto it = token_ids_.find(std::string(token));
    if (it == token_ids_.end()) return std::nullopt;
    return it->second;
}

const std::string& WordPieceTokenizer::id_to_token(int64_t id) const {
    return tokens_[size_t(checked_id(id, "WordPieceTokenizer::id_to_token"))];
}

std::optional<int64_t> WordPieceTokenizer::pad_id() const {
    return pad_id_ >= 0 ? std::optional<int64_t>(pad_id_) : std::nullopt;
}

std::optional<int64_t> WordPieceTokenizer::mask_id() const {
    return mask_id_ >= 0 ? std::optional<int64_t>(mask_id_) : std::nullopt;
}

}  // namespace graft::io
