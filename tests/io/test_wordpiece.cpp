// WordPieceTokenizer against Hugging Face tokenizers: every case of
// tests/fixtures/wordpiece_cases.jsonl (written by make_tokenizer_fixtures.py
// with the real all-MiniLM-L6-v2 tokenizer) must match exactly: ids, type ids,
// mask and decoded text, or the same refusal. Then batches, padding,
// truncation and pairs by hand, tokenizer.json loading, and every error.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "graft.h"
#include "io/text/wordpiece.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using namespace graft;
using namespace graft::io;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = GRAFT_FIXTURES_DIR;
const std::string kVocab = kFixtures + "/bert_uncased_vocab.txt";
const std::string kCases = kFixtures + "/wordpiece_cases.jsonl";

const WordPieceTokenizer& bert() {
    static const WordPieceTokenizer tok = WordPieceTokenizer::from_vocab_file(kVocab);
    return tok;
}


std::vector<json> read_cases() {
    std::ifstream in(kCases);
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    json header = json::parse(line);
    INFO("regenerate with: " << header.value("regenerate", std::string("?")));
    REQUIRE(header.at("format") == "graft-wordpiece-cases");
    REQUIRE(header.at("version") == 1);
    std::vector<json> cases;
    while (std::getline(in, line)) cases.push_back(json::parse(line));
    return cases;
}

WordPieceOptions options_of(const json& c) {
    WordPieceOptions o;
    if (!c.contains("options")) return o;
    const json& j = c["options"];
    o.lowercase = j.value("lowercase", true);
    if (j.contains("strip_accents") && !j["strip_accents"].is_null()) o.strip_accents = j["strip_accents"].get<bool>();
    o.clean_text = j.value("clean_text", true);
    o.handle_chinese_chars = j.value("handle_chinese_chars", true);
    return o;
}

EncodeOptions encode_options_of(const json& c) {
    EncodeOptions o;
    o.add_special_tokens = c.value("add_special_tokens", true);
    if (c.contains("max_length")) o.max_length = c["max_length"].get<int64_t>();
    std::string t = c.value("truncation", std::string("none"));
    o.truncation = t == "longest_first" ? Truncation::LongestFirst
                 : t == "only_first"    ? Truncation::OnlyFirst
                 : t == "only_second"   ? Truncation::OnlySecond
                                        : Truncation::None;
    o.padding = c.contains("padding") ? Padding::MaxLength : Padding::None;
    return o;
}

std::string digits(const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x);
    return s;
}

// Empty when `c` matches; otherwise what differs.
std::string compare_case(const WordPieceTokenizer& tok, const json& c) {
    std::optional<std::string> pair;
    if (c.contains("pair")) pair = c["pair"].get<std::string>();
    auto text = c["text"].get<std::string>();
    if (c.value("error", false)) {
        try {
            tok.encode(text, pair, encode_options_of(c));
        } catch (const Error&) {
            return "";
        }
        return "expected an Error, got none";
    }
    Encoding e = tok.encode(text, pair, encode_options_of(c));
    auto ids = c["ids"].get<std::vector<int64_t>>();
    if (e.ids != ids) return cat_str("ids differ: got ", json(e.ids).dump(), " want ", json(ids).dump());
    if (digits(e.type_ids) != c["type_ids"]) return "type_ids differ: got " + digits(e.type_ids);
    if (digits(e.attention_mask) != c["mask"]) return "mask differs: got " + digits(e.attention_mask);
    std::string decoded = tok.decode(e.ids);
    if (decoded != c["decoded"]) return "decode differs: got '" + decoded + "'";
    return "";
}

}  // namespace

TEST_CASE("wordpiece: every fixture case matches Hugging Face tokenizers exactly", "[io][wordpiece]") {
    std::vector<json> cases = read_cases();
    REQUIRE(cases.size() > 3000);
    std::map<std::string, WordPieceTokenizer> tokenizers;
    size_t exact = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const json& c = cases[i];
        std::string key = c.contains("options") ? c["options"].dump() : "";
        auto it = tokenizers.find(key);
        if (it == tokenizers.end())
            it = tokenizers.emplace(key, WordPieceTokenizer::from_vocab_file(kVocab, options_of(c))).first;
        std::string diff = compare_case(it->second, c);
        if (diff.empty()) {
            ++exact;
            continue;
        }
        INFO("fixture line " << i + 2 << ": " << c.dump());
        FAIL_CHECK(diff);
    }
    WARN("wordpiece parity: " << exact << " of " << cases.size() << " cases exact");
    CHECK(exact == cases.size());
}

TEST_CASE("wordpiece: the basics by hand", "[io][wordpiece]") {
    const auto& tok = bert();
    CHECK(tok.vocab_size() == 30522);
    CHECK(tok.unk_id() == 100);
    CHECK(tok.cls_id() == 101);
    CHECK(tok.sep_id() == 102);
    CHECK(tok.pad_id() == 0);
    CHECK(tok.mask_id() == 103);
    CHECK(tok.tokenize("unaffable") == std::vector<std::string>{"una", "##ffa", "##ble"});
    CHECK(tok.tokenize("Héllo, WORLD!") == std::vector<std::string>{"hello", ",", "world", "!"});
    CHECK(tok.tokenize("中文") == std::vector<std::string>{"中", "文"});
    CHECK(tok.tokenize("[MASK] is [mask]") == std::vector<std::string>{"[MASK]", "is", "[", "mask", "]"});
    CHECK(tok.tokenize(std::string(101, 'a')) == std::vector<std::string>{"[UNK]"});
    CHECK(tok.tokenize("").empty());
    Encoding e = tok.encode("Hello world", "Second one");
    CHECK(e.ids == std::vector<int64_t>{101, 7592, 2088, 102, 2117, 2028, 102});
    CHECK(e.type_ids == std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1});
    CHECK(e.attention_mask == std::vector<int64_t>(7, 1));
    CHECK(tok.decode(e.ids) == "hello world second one");
    CHECK(tok.decode(e.ids, false) == "[CLS] hello world [SEP] second one [SEP]");
    CHECK(tok.convert_ids_to_tokens({101, 7592}) == std::vector<std::string>{"[CLS]", "hello"});
    CHECK(tok.token_to_id("hello") == 7592);
    CHECK_FALSE(tok.token_to_id("no-such-token").has_value());
}

TEST_CASE("wordpiece: truncation and padding", "[io][wordpiece]") {
    const auto& tok = bert();
    // 3 + 4 pieces, 3 special tokens: longest_first trims the longer side first.
    std::string a = "one two three", b = "four five six seven";
    auto ids = [&](int64_t max_length, Truncation t) { return tok.encode(a, b, {max_length, t}).ids; };
    CHECK(ids(10, Truncation::LongestFirst).size() == 10);
    CHECK(ids(9, Truncation::LongestFirst) == std::vector<int64_t>{101, 2028, 2048, 2093, 102, 2176, 2274, 2416, 102});
    CHECK(ids(6, Truncation::LongestFirst) == std::vector<int64_t>{101, 2028, 102, 2176, 2274, 102});
    CHECK(ids(8, Truncation::OnlySecond) == std::vector<int64_t>{101, 2028, 2048, 2093, 102, 2176, 2274, 102});
    CHECK(ids(8, Truncation::OnlyFirst) == std::vector<int64_t>{101, 2028, 102, 2176, 2274, 2416, 2698, 102});
    CHECK(ids(3, Truncation::LongestFirst) == std::vector<int64_t>{101, 102, 102});  // HF: both emptied
    CHECK(ids(4, Truncation::None).size() == 10);
    CHECK_THROWS_WITH(ids(2, Truncation::LongestFirst), Contains("max_length 2") && Contains("3"));
    CHECK_THROWS_WITH(ids(6, Truncation::OnlyFirst), Contains("first sequence (3 tokens)"));
    CHECK_THROWS_WITH(tok.encode(a, std::nullopt, {1 + 2, Truncation::OnlySecond}), Contains("needs a text pair"));

    Encoding padded = tok.encode("hi", std::nullopt, {8, Truncation::LongestFirst, Padding::MaxLength});
    CHECK(padded.ids == std::vector<int64_t>{101, 7632, 102, 0, 0, 0, 0, 0});
    CHECK(padded.type_ids == std::vector<int64_t>(8, 0));
    CHECK(padded.attention_mask == std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 0});
    CHECK(tok.encode("hi", std::nullopt, {8}).size() == 3);  // Longest of one: no padding
    CHECK(tok.encode("hi", std::nullopt, {std::nullopt, Truncation::LongestFirst, Padding::None, false}).ids ==
          std::vector<int64_t>{7632});
    CHECK_THROWS_WITH(tok.encode("hi", std::nullopt, {std::nullopt, Truncation::None, Padding::MaxLength}),
                      Contains("needs max_length"));
    CHECK_THROWS_WITH(tok.encode("hi", std::nullopt, {-1}), Contains("max_length must be >= 0"));
}

TEST_CASE("wordpiece: encode_batch pads to the longest and returns [B, T] int64 tensors", "[io][wordpiece]") {
    const auto& tok = bert();
    std::vector<json> cases = read_cases();
    std::vector<std::string> texts;
    std::vector<std::vector<int64_t>> want;
    for (const json& c : cases) {
        if (c.size() != 5 || c.contains("pair") || c.value("error", false)) continue;  // plain single texts
        texts.push_back(c["text"]);
        want.push_back(c["ids"]);
        if (texts.size() == 500) break;
    }
    BatchEncoding batch = tok.encode_batch(texts);
    size_t longest = 0;
    for (const auto& w : want) longest = std::max(longest, w.size());
    REQUIRE(batch.input_ids.shape() == Shape{int64_t(texts.size()), int64_t(longest)});
    REQUIRE(batch.input_ids.dtype() == DType::Int64);
    REQUIRE(batch.attention_mask.shape() == batch.input_ids.shape());
    REQUIRE(batch.token_type_ids.shape() == batch.input_ids.shape());
    auto ids = batch.input_ids.to_vector<int64_t>();
    auto mask = batch.attention_mask.to_vector<int64_t>();
    auto types = batch.token_type_ids.to_vector<int64_t>();
    for (size_t i = 0; i < texts.size(); ++i) {
        std::vector<int64_t> row(ids.begin() + i * longest, ids.begin() + (i + 1) * longest);
        std::vector<int64_t> expected = want[i], mask_row(longest, 0);
        expected.resize(longest, 0);
        std::fill(mask_row.begin(), mask_row.begin() + want[i].size(), 1);
        INFO("item " << i << ": " << texts[i]);
        CHECK(row == expected);
        CHECK(std::vector<int64_t>(mask.begin() + i * longest, mask.begin() + (i + 1) * longest) == mask_row);
    }
    CHECK(std::all_of(types.begin(), types.end(), [](int64_t t) { return t == 0; }));

    BatchEncoding pairs =
        tok.encode_batch({"a b", "c"}, {"d", "e f g"}, {12, Truncation::LongestFirst, Padding::MaxLength});
    CHECK(pairs.input_ids.shape() == Shape{2, 12});
    CHECK(pairs.token_type_ids.to_vector<int64_t>() ==
          std::vector<int64_t>{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0});
    CHECK(tok.encode_batch({}).input_ids.shape() == Shape{0, 0});
    CHECK_THROWS_WITH(tok.encode_batch({"a", "b c"}, {std::nullopt, Truncation::None, Padding::None}),
                      Contains("different lengths"));
    CHECK_THROWS_WITH(tok.encode_batch({"a", "b"}, {"c"}), Contains("2 texts but 1 pairs"));
    CHECK_THROWS_WITH(tok.encode_batch({"ok", "bad \xff"}), Contains("item 1") && Contains("byte 4"));
}

TEST_CASE("wordpiece: errors name the file, the token, the byte or the id", "[io][wordpiece]") {
    TempDir dir("wordpiece");
    std::string missing = (dir.path / "nope" / "vocab.txt").string();
    CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(missing), Contains(missing));
    std::string no_unk = dir.write("no_unk.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n");
    CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(no_unk), Contains("no_unk.txt") && Contains("'[UNK]'"));
    std::string no_sep = dir.write("no_sep.txt", "[UNK]\n[CLS]\n");
    CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(no_sep), Contains("sep token '[SEP]'"));
    std::string bad_utf8 = dir.write("bad.txt", "[UNK]\n[CLS]\n\xc3(\n");
    CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(bad_utf8), Contains("byte 12") && Contains("line 3"));
    CHECK_THROWS_WITH(bert().encode("ok \xe2\x82"), Contains("invalid UTF-8 at byte 3"));
    CHECK_THROWS_WITH(bert().encode("ok", "x [MASK] \xc0\x80"), Contains("(pair)") && Contains("byte 9 (0xC0)"));
    CHECK_THROWS_WITH(bert().decode({101, 30522}), Contains("id 30522") && Contains("[0, 30522)"));
    CHECK_THROWS_WITH(bert().id_to_token(-1), Contains("id -1"));

    // Lines keep their index; trailing whitespace and \r go, as in HF's reader.
    std::string small = dir.write("small.txt", "[UNK]\r\n[CLS] \n[SEP]\nhello\n##s\n");
    auto tok = WordPieceTokenizer::from_vocab_file(small);
    CHECK(tok.vocab_size() == 5);
    CHECK(tok.encode("Hellos hey").ids == std::vector<int64_t>{1, 3, 4, 0, 2});
    CHECK_FALSE(tok.pad_id().has_value());
    CHECK_THROWS_WITH(tok.encode_batch({"hello", "hello hello"}), Contains("pad token '[PAD]'"));
}

TEST_CASE("wordpiece: tokenizer.json gives the same tokenizer", "[io][wordpiece]") {
    TempDir dir("wordpiece");
    json vocab = json::object();
    std::ifstream in(kVocab);
    std::string line;
    for (int64_t id = 0; std::getline(in, line); ++id) vocab[line] = id;
    auto special = [](const char* t) { return json{{"SpecialToken", {{"id", t}, {"type_id", 0}}}}; };
    json sequence_a = {{"Sequence", {{"id", "A"}}}};
    json doc = {
        {"added_tokens", json::array({{{"id", 103}, {"content", "[MASK]"}, {"special", true}, {"normalized", false}}})},
        {"normalizer", {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                        {"strip_accents", nullptr}, {"lowercase", false}}},
        {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
        {"post_processor", {{"type", "TemplateProcessing"},
                            {"single", json::array({special("[CLS]"), sequence_a, special("[SEP]")})}}},
        {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                   {"max_input_chars_per_word", 100}, {"vocab", vocab}}}};
    auto from_json = WordPieceTokenizer::from_tokenizer_json(dir.write("tokenizer.json", doc.dump()));
    CHECK_FALSE(from_json.options().lowercase);
    WordPieceOptions cased;
    cased.lowercase = false;
    auto from_txt = WordPieceTokenizer::from_vocab_file(kVocab, cased);
    for (const char* text : {"Hello [MASK] World", "Ça va? 中文", "UNAFFABLE things"})
        CHECK(from_json.encode(text).ids == from_txt.encode(text).ids);

    doc["model"]["type"] = "BPE";
    CHECK_THROWS_WITH(WordPieceTokenizer::from_tokenizer_json(dir.write("bpe.json", doc.dump())),
                      Contains("bpe.json") && Contains("model BPE is not WordPiece"));
    CHECK_THROWS_WITH(WordPieceTokenizer::from_tokenizer_json(dir.write("broken.json", "{\"model\": ")),
                      Contains("broken.json"));
}
