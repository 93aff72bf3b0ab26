// Time and memory to load pretrained weights into a model in Graft; torch_load.py
// does the same in PyTorch and run.sh puts the two side by side. One case per
// process, so the peak RSS (getrusage ru_maxrss) belongs to that case alone.
//
//   resnet50  a torch.save zip .pth of torchvision's resnet50 (run.sh writes one with
//             random weights, 102 MB) -> nn::models::resnet50()
//   minilm    the real all-MiniLM-L6-v2 model.safetensors (tools/fetch_weights.sh,
//             91 MB) -> nn::models::BertModel from its config.json
//
// A load is io::read_weights(file) + transfer::load_pretrained(model, tensors)
// (strict names and shapes, values copied into the model's parameters), the
// tensors read are dropped before the next load. The model is built once before
// the clock starts, as torch_load.py builds its nn.Module first. The first load of
// the process is reported alone ("first": the file is in the page cache, run.sh
// reads it once before, but nothing of it is mapped yet), then the median and
// min of --repeats more loads.
//
// --variant share loads with LoadOptions::share_memory: every parameter and buffer
// whose file tensor fits (dtype, shape, contiguous, aligned) takes the reader's
// private map of the file instead of a copy (torch_load.py's counterpart:
// torch.load(mmap=True) / safetensors' mapped tensors + load_state_dict(assign=True)).
//
// Run:   load_bench --case resnet50|minilm --file PATH [--config config.json]
//                   [--repeats 5] [--threads N] [--variant copy|share]
// Output: comment lines starting with '#' (per-phase medians), then one line
//   <case> <first_s> <median_s> <min_s> <peak_rss_kib> <model_rss_kib>
// where model_rss_kib is the RSS after building the model, before any load.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "benchmarks/bench_util.h"
#include "graft.h"
#include "io/formats/read_weights.h"
#include "kernels/parallel.h"
#include "nn/models/bert.h"
#include "nn/models/resnet.h"
#include "transfer/load_pretrained.h"

using namespace graft;

namespace {

using graft::bench::peak_rss_kib;
using graft::bench::seconds_since;

struct Args {
    std::string name, file, config;
    int repeats = 5;
    int threads = 0;  // 0: the library's default
    std::string variant = "copy";
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "load_bench: %s\nusage: load_bench --case resnet50|minilm --file PATH [--config config.json] "
                 "[--repeats 5] [--threads N] [--variant copy|share]\n",
                 why);
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + k).c_str());
        const std::string v = argv[++i];
        if (k == "--case") a.name = v;
        else if (k == "--file") a.file = v;
        else if (k == "--config") a.config = v;
        else if (k == "--repeats") a.repeats = std::atoi(v.c_str());
        else if (k == "--threads") a.threads = std::atoi(v.c_str());
        else if (k == "--variant") a.variant = v;
        else usage(("unknown option " + k).c_str());
    }
    if (a.name != "resnet50" && a.name != "minilm") usage("--case must be resnet50 or minilm");
    if (a.file.empty()) usage("--file is required");
    if (a.name == "minilm" && a.config.empty()) usage("--config (the model's config.json) is required for minilm");
    if (a.repeats < 1) usage("--repeats must be at least 1");
    if (a.variant != "copy" && a.variant != "share") usage("--variant must be copy or share");
    return a;
}

long current_rss_kib() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct Phases {
    double read, load;
    int64_t shared, copied;
};

Phases load_once(nn::Module& model, const Args& a, const transfer::LoadOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    const NamedTensors tensors = io::read_weights(a.file);
    const double read = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    const transfer::LoadReport report = transfer::load_pretrained(model, tensors, options);
    const double load = seconds_since(t1);
    if (!report.ok()) {
        std::fprintf(stderr, "load_bench: %s does not fit the model:\n%s\n", a.file.c_str(), report.table().c_str());
        std::exit(1);
    }
    return {read, load, report.shared_count(), report.copied_count()};
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    if (a.threads > 0) set_num_threads(a.threads);
    try {
        std::shared_ptr<nn::Module> model;
        transfer::LoadOptions options;
        if (a.name == "resnet50") {
            model = nn::models::resnet50();
        } else {
            model = std::make_shared<nn::models::BertModel>(nn::models::BertConfig::from_file(a.config));
            options = transfer::bert_load_options();
        }
        options.share_memory = a.variant == "share";
        model->eval();
        const long model_rss = current_rss_kib();
        NoGradGuard no_grad;

        const Phases first = load_once(*model, a, options);
        std::vector<double> total, read, load;
        for (int i = 0; i < a.repeats; ++i) {
            const Phases p = load_once(*model, a, options);
            read.push_back(p.read);
            load.push_back(p.load);
            total.push_back(p.read + p.load);
        }
        const std::string step = "load_pretrained (" + a.variant + ")";
        std::printf("# %s: first load read %.6f s + %s %.6f s; median read %.6f s + %s %.6f s; %lld shared, %lld copied\n",
                    a.name.c_str(), first.read, step.c_str(), first.load, median(read), step.c_str(), median(load),
                    (long long)first.shared, (long long)first.copied);
        std::printf("%s %.6f %.6f %.6f %ld %ld\n", a.name.c_str(), first.read + first.load, median(total),
                    *std::min_element(total.begin(), total.end()), peak_rss_kib(), model_rss);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "load_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
