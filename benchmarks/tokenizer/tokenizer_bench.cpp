// Graft's side of benchmarks/tokenizer: tokens per second of WordPieceTokenizer
// on the texts of tests/fixtures/wordpiece_cases.jsonl (each "text" and "pair"
// as its own sequence). tokenizer_hf.py measures Hugging Face tokenizers the
// same way; run.py runs both and prints the table for docs/performance.md.
//
// Protocol (identical in both programs), per corpus ("all": every fixture
// text; "ascii": those that are pure ASCII), each corpus repeated to at least
// 20,000 texts:
//   encode        one encode(text) call per text;
//   encode_batch  encode_batch over consecutive batches of 64 texts, each
//                 padded to its longest (Graft also packs the [B, T] int64
//                 tensors), as a training or inference loop calls it.
// Both add [CLS]/[SEP] and truncate to 512 tokens (longest_first), BERT's limit.
// Tokens = ids before padding. Each measurement: 1 warm-up run, then the
// median and the best of 7 runs. Before timing, a checksum of all ids is
// printed so run.py can check that both sides produce the same tokens.
//
// Usage: tokenizer_bench --vocab V --cases C --threads N
//   prints: corpus <name> texts <n> tokens <n> checksum <hex>
//           <corpus> <mode> <threads> <median tokens/s> <best tokens/s>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graft.h"
#include "io/text/wordpiece.h"

using namespace graft;
using namespace graft::io;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMinTexts = 20000, kBatch = 64;
constexpr int64_t kMaxLength = 512;
constexpr int kRuns = 7;

struct Corpus {
    std::string name;
    std::vector<std::string> texts;
};

std::vector<Corpus> load_corpora(const std::string& cases_path) {
    std::ifstream in(cases_path);
    check(in.good(), "tokenizer_bench", "cannot open ", cases_path);
    std::string line;
    std::getline(in, line);  // header
    Corpus all{"all", {}}, ascii{"ascii", {}};
    while (std::getline(in, line)) {
        auto c = nlohmann::json::parse(line);
        for (const char* field : {"text", "pair"}) {
            if (!c.contains(field)) continue;
            auto text = c[field].get<std::string>();
            all.texts.push_back(text);
            if (std::all_of(text.begin(), text.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; }))
                ascii.texts.push_back(text);
        }
    }
    std::vector<Corpus> out{all, ascii};
    for (Corpus& corpus : out) {
        size_t n = corpus.texts.size();
        for (size_t i = 0; corpus.texts.size() < kMinTexts; ++i) corpus.texts.push_back(corpus.texts[i % n]);
    }
    return out;
}

// FNV-1a over every id of every text, in order: equal to tokenizer_hf.py's.
uint64_t checksum(const std::vector<Encoding>& encodings) {
    uint64_t h = 1469598103934665603ull;
    for (const Encoding& e : encodings)
        for (int64_t id : e.ids) {
            h ^= uint64_t(id);
            h *= 1099511628211ull;
        }
    return h;
}

template <typename Fn>
void measure(const char* corpus, const char* mode, int threads, double tokens, Fn&& fn) {
    fn();  // warm-up
    std::vector<double> seconds;
    for (int r = 0; r < kRuns; ++r) {
        auto t0 = Clock::now();
        fn();
        seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf("%s %s %d %.0f %.0f\n", corpus, mode, threads, tokens / seconds[kRuns / 2], tokens / seconds[0]);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::string vocab, cases;
    int threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--vocab")) vocab = argv[i + 1];
        if (!std::strcmp(argv[i], "--cases")) cases = argv[i + 1];
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    }
    if (vocab.empty() || cases.empty()) {
        std::fprintf(stderr, "usage: tokenizer_bench --vocab V --cases C --threads N\n");
        return 2;
    }
    set_num_threads(threads);
    auto tok = WordPieceTokenizer::from_vocab_file(vocab);
    for (const Corpus& corpus : load_corpora(cases)) {
        const char* name = corpus.name.c_str();
        EncodeOptions unpadded{kMaxLength, Truncation::LongestFirst, Padding::None};
        std::vector<Encoding> reference = tok.encode_each(corpus.texts, unpadded);
        std::vector<std::vector<std::string>> batches;
        for (size_t i = 0; i < corpus.texts.size(); i += kBatch)
            batches.emplace_back(corpus.texts.begin() + std::ptrdiff_t(i),
                                 corpus.texts.begin() + std::ptrdiff_t(std::min(i + kBatch, corpus.texts.size())));
        double tokens = 0;
        for (const Encoding& e : reference) tokens += double(e.size());
        std::printf("corpus %s texts %zu tokens %.0f checksum %016llx\n", name, corpus.texts.size(), tokens,
                    static_cast<unsigned long long>(checksum(reference)));
        if (threads == 1)
            measure(name, "encode", 1, tokens, [&] {
                for (const std::string& text : corpus.texts) tok.encode(text, std::nullopt, unpadded);
            });
        EncodeOptions padded{kMaxLength, Truncation::LongestFirst, Padding::Longest};
        measure(name, "encode_batch", threads, tokens, [&] {
            for (const auto& batch : batches) tok.encode_batch(batch, padded);
        });
    }
    return 0;
}
