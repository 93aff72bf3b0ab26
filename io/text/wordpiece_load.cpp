// WordPieceTokenizer from files: vocab.txt (read as HF's WordPiece::read_file
// does) and Hugging Face tokenizer.json, accepted only for the BERT pipeline
// (BertNormalizer, BertPreTokenizer, WordPiece, [CLS]/[SEP] template), since
// anything else would tokenize differently from what the file promises.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/text/unicode.h"
#include "io/text/wordpiece.h"

namespace graft::io {

namespace {

std::string read_file(const std::string& path, const char* op) {
    std::ifstream in(path, std::ios::binary);
    check(in.good(), op, "cannot open '", path, "': ", std::strerror(errno));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    check(!in.bad(), op, "cannot read '", path, "'");
    return bytes.str();
}

// Rust's str::trim_end: drops trailing White_Space characters.
std::string_view trim_end(std::string_view line) {
    while (!line.empty()) {
        size_t lead = line.size() - 1;
        while (lead > 0 && (static_cast<unsigned char>(line[lead]) & 0xC0) == 0x80) --lead;
        std::u32string cp;
        unicode::decode_utf8(line.substr(lead), cp, "trim_end");
        if (cp.size() != 1 || !unicode::is_whitespace(cp[0])) break;
        line.remove_suffix(line.size() - lead);
    }
    return line;
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path, const WordPieceOptions& options) {
    const char* op = "WordPieceTokenizer::from_vocab_file";
    std::string text = read_file(path, op);
    size_t bad = unicode::find_invalid_utf8(text);
    if (bad != std::string::npos) {
        size_t line = 1 + size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(bad), '\n'));
        throw Error(cat_str(op, ": '", path, "': invalid UTF-8 at byte ", bad, " (line ", line, ")"));
    }
    std::vector<std::string> tokens;
    std::string_view rest(text);
    while (!rest.empty()) {  // one token per line; a final newline ends the last line, not a new one
        size_t end = rest.find('\n');
        tokens.emplace_back(trim_end(rest.substr(0, end)));
        rest.remove_prefix(end == rest.npos ? rest.size() : end + 1);
    }
    return WordPieceTokenizer(std::move(tokens), options, "'" + path + "'");
}

namespace {

using nlohmann::json;

template <typename... Parts>
[[noreturn]] void refuse(const std::string& path, const Parts&... parts) {
    throw Error(cat_str("WordPieceTokenizer::from_tokenizer_json: '", path, "': ", parts...));
}

std::string type_of(const json& section) {
    return section.is_object() ? section.value("type", std::string("?")) : std::string("none");
}

// [CLS] and [SEP] from TemplateProcessing's single template or BertProcessing.
void read_post_processor(const json& post, const std::string& path, WordPieceOptions& o) {
    std::string type = type_of(post);
    if (type == "BertProcessing") {
        o.cls_token = post.at("cls").at(0).get<std::string>();
        o.sep_token = post.at("sep").at(0).get<std::string>();
        return;
    }
    if (type != "TemplateProcessing") refuse(path, "post_processor ", type, " is not supported");
    const json& single = post.at("single");
    if (single.size() != 3 || !single[0].contains("SpecialToken") || !single[2].contains("SpecialToken"))
        refuse(path, "the single-sequence template is not [CLS] $A [SEP]");
    o.cls_token = single[0]["SpecialToken"].at("id").get<std::string>();
    o.sep_token = single[2]["SpecialToken"].at("id").get<std::string>();
}

std::vector<std::string> read_vocab(const json& vocab, const std::string& path) {
    std::vector<std::string> tokens(vocab.size());
    std::vector<bool> seen(vocab.size());
    for (const auto& [token, id_json] : vocab.items()) {
        auto id = id_json.get<int64_t>();
        if (id < 0 || size_t(id) >= tokens.size() || seen[size_t(id)])
            refuse(path, "vocabulary ids must be 0..", tokens.size() - 1, " without gaps; '", token, "' has ", id);
        tokens[size_t(id)] = token;
        seen[size_t(id)] = true;
    }
    return tokens;
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_tokenizer_json(const std::string& path) {
    std::string text = read_file(path, "WordPieceTokenizer::from_tokenizer_json");
    json doc;
    try {
        doc = json::parse(text);
        const json& model = doc.at("model");
        if (type_of(model) != "WordPiece") refuse(path, "model ", type_of(model), " is not WordPiece");
        if (type_of(doc["normalizer"]) != "BertNormalizer")
            refuse(path, "normalizer ", type_of(doc["normalizer"]), " is not BertNormalizer");
        if (type_of(doc["pre_tokenizer"]) != "BertPreTokenizer")
            refuse(path, "pre_tokenizer ", type_of(doc["pre_tokenizer"]), " is not BertPreTokenizer");
        WordPieceOptions o;
        const json& norm = doc["normalizer"];
        o.clean_text = norm.value("clean_text", true);
        o.handle_chinese_chars = norm.value("handle_chinese_chars", true);
        o.lowercase = norm.value("lowercase", true);
        if (norm.contains("strip_accents") && !norm["strip_accents"].is_null())
            o.strip_accents = norm["strip_accents"].get<bool>();
        o.unk_token = model.value("unk_token", o.unk_token);
        o.continuing_subword_prefix = model.value("continuing_subword_prefix", o.continuing_subword_prefix);
        o.max_input_chars_per_word = model.value("max_input_chars_per_word", o.max_input_chars_per_word);
        read_post_processor(doc["post_processor"], path, o);
        if (doc.contains("padding") && doc["padding"].is_object())
            o.pad_token = doc["padding"].value("pad_token", o.pad_token);
        for (const json& added : doc.value("added_tokens", json::array())) {
            auto content = added.at("content").get<std::string>();
            bool known = content == o.unk_token || content == o.cls_token || content == o.sep_token ||
                         content == o.pad_token || content == o.mask_token;
            if (!known || added.value("normalized", false))
                refuse(path, "added token '", content,
                       "' is not supported (only unk/cls/sep/pad/mask, not normalized)");
        }
        return WordPieceTokenizer(read_vocab(model.at("vocab"), path), o, "'" + path + "'");
    } catch (const json::exception& e) {
        refuse(path, e.what());
    }
}

}  // namespace graft::io
