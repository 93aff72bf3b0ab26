// transfer::load_pretrained with share_memory: the model takes the source's
// memory where it can (same dtype, device, shape, contiguous, aligned, not
// overlapping another shared source) and copies otherwise, saying why. From a
// file that memory is the reader's private copy-on-write map: training must
// never reach the file, and the map must outlive the NamedTensors that held it.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

#include "graft.h"
#include "io/formats/read_weights.h"
#include "io/formats/safetensors.h"
#include "nn/layers/container.h"
#include "nn/layers/linear.h"
#include "nn/layers/norm.h"
#include "nn/optim/sgd.h"
#include "tests/support/temp_dir.h"
#include "transfer/load_pretrained.h"

using namespace graft;
using transfer::load_pretrained;

namespace {

// "0" Linear(3, 4), "1" BatchNorm1d(4), "2" Linear(4, 2).
std::shared_ptr<nn::Sequential> small_model(std::shared_ptr<nn::Linear> first = nullptr) {
    if (!first) first = std::make_shared<nn::Linear>(3, 4);
    return nn::sequential({first, std::make_shared<nn::BatchNorm1d>(4), std::make_shared<nn::Linear>(4, 2)});
}

// A file with a trained-looking state (random weights, non-trivial BatchNorm statistics).
std::string write_source(const testing::TempDir& dir, uint64_t seed = 7) {
    manual_seed(seed);
    auto source = small_model();
    NamedTensors sd = source->state_dict();
    sd.set("1.running_mean", full({4}, 0.25));
    sd.set("1.running_var", full({4}, 2.0));
    sd.set("1.num_batches_tracked", full({}, 5.0, DType::Int64));
    const std::string path = dir.file("source.safetensors");
    io::write_safetensors(path, sd);
    return path;
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> values(const Tensor& t) {
    const Tensor c = t.contiguous().to(DType::Float32).reshape({-1});
    return {c.data<float>(), c.data<float>() + c.numel()};
}

// One SGD step with BatchNorm in training mode (its buffers change in place too).
void train_step(nn::Module& model, optim::Optimizer& opt) {
    model.train();
    Generator gen(3);
    const Tensor x = randn({8, 3}, DType::Float32, &gen);
    opt.zero_grad();
    Tensor loss = pow(model(x), 2.0).mean();
    loss.backward();
    opt.step();
}

const transfer::LoadReport::Loaded& entry(const transfer::LoadReport& r, const std::string& name) {
    for (const auto& l : r.loaded)
        if (l.name == name) return l;
    FAIL("no loaded entry " << name);
    throw;
}

}  // namespace

TEST_CASE("share_memory: a safetensors file is shared, and training never writes to it", "[load_pretrained][share]") {
    testing::TempDir dir("share");
    const std::string path = write_source(dir);
    const std::string before = file_bytes(path);

    auto model = small_model();
    optim::SGD opt(model->parameters(), {.lr = 0.1, .momentum = 0.9});  // built before the load, as in a script
    const auto report = load_pretrained(*model, path, {.share_memory = true});
    CHECK(report.ok());
    CHECK(report.shared_count() == 9);
    CHECK(report.copied_count() == 0);
    CHECK(report.table().find("; shared 9, copied 0") != std::string::npos);

    auto twin = small_model();  // the same load, copied
    optim::SGD twin_opt(twin->parameters(), {.lr = 0.1, .momentum = 0.9});
    const auto copied = load_pretrained(*twin, path);
    CHECK(copied.shared_count() == 0);
    CHECK(copied.copied_count() == 9);
    CHECK(copied.table().find("shared") == std::string::npos);  // the plain load's summary is unchanged

    const NamedTensors loaded = model->state_dict();
    for (const auto& [name, t] : twin->state_dict()) CHECK(values(loaded.at(name)) == values(t));
    const std::vector<float> w_loaded = values(loaded.at("0.weight"));

    for (int i = 0; i < 2; ++i) {
        train_step(*model, opt);
        train_step(*twin, twin_opt);
    }
    const NamedTensors trained = model->state_dict();
    for (const auto& [name, t] : twin->state_dict()) {
        INFO(name);
        CHECK(values(trained.at(name)) == values(t));
    }
    CHECK(values(trained.at("0.weight")) != w_loaded);
    CHECK(trained.at("1.num_batches_tracked").item<int64_t>() == 7);

    // The file is as it was, byte for byte, and a fresh shared load sees the
    // original values, not the trained ones (each read maps privately).
    CHECK(file_bytes(path) == before);
    auto fresh = small_model();
    load_pretrained(*fresh, path, {.share_memory = true});
    const NamedTensors original = io::read_weights(path, {.copy = true, .key = ""});
    for (const auto& [name, t] : fresh->state_dict()) CHECK(values(t) == values(original.at(name)));
    CHECK(values(fresh->state_dict().at("0.weight")) != values(trained.at("0.weight")));
}

TEST_CASE("share_memory: the layer's member takes the data and keeps the map alive", "[load_pretrained][share]") {
    testing::TempDir dir("share");
    const std::string path = write_source(dir);
    const NamedTensors original = io::read_weights(path, {.copy = true, .key = ""});

    auto linear = std::make_shared<nn::Linear>(3, 4);
    auto model = small_model(linear);
    const Tensor registered = model->named_parameters().front().second;
    optim::SGD opt(model->parameters(), {.lr = 0.5});
    {
        const NamedTensors source = io::read_weights(path);  // views of the map
        const auto report = load_pretrained(*model, source, {.share_memory = true});
        CHECK(report.shared_count() == 9);
        // The very memory of the source, through the member and the registry alike.
        CHECK(linear->weight.storage() == source.at("0.weight").storage());
        CHECK(registered.impl_ptr() == linear->weight.impl_ptr());
        CHECK(linear->weight.requires_grad());
    }  // the NamedTensors (and the reader's handle on the map) are gone

    CHECK(values(linear->weight) == values(original.at("0.weight")));
    const std::vector<float> w0 = values(linear->weight);
    train_step(*model, opt);
    REQUIRE(linear->weight.grad().defined());
    const std::vector<float> g = values(linear->weight.grad());
    const std::vector<float> w1 = values(linear->weight);
    for (size_t i = 0; i < w0.size(); ++i) CHECK(w1[i] == Approx(w0[i] - 0.5f * g[i]));
}

TEST_CASE("share_memory: what cannot be shared is copied, with the reason", "[load_pretrained][share]") {
    auto model = small_model();
    NamedTensors src;
    for (const auto& [name, t] : small_model()->state_dict()) src.set(name, full(t.shape(), 0.5, t.dtype()));
    // dtype differs: converted, so copied.
    src.set("0.weight", full({4, 3}, 1.5, DType::Float64));
    // Not contiguous: a transposed view.
    src.set("2.weight", arange(0, 8, 1, DType::Float32).reshape({4, 2}).t());
    // Misaligned: a float32 tensor one byte into a buffer.
    std::vector<unsigned char> buffer(4 * sizeof(float) + 1);
    const float bias[4] = {1, 2, 3, 4};
    std::memcpy(buffer.data() + 1, bias, sizeof bias);
    src.set("0.bias", Tensor::from_storage(Storage::wrap(buffer.data() + 1, sizeof bias, Device::cpu(), nullptr, nullptr),
                                           {4}, {1}, 0, DType::Float32));
    // Two entries over the same bytes: sharing both would tie the model's tensors together.
    const Tensor tied = full({4}, 3.0);
    src.set("1.weight", tied);
    src.set("1.bias", tied);

    const auto report = load_pretrained(*model, src, {.share_memory = true});
    CHECK(report.ok());
    CHECK(entry(report, "0.weight").copy_reason == "dtype float64 differs");
    CHECK(entry(report, "2.weight").copy_reason == "not contiguous");
    CHECK(entry(report, "0.bias").copy_reason == "misaligned");
    CHECK(entry(report, "1.weight").shared);  // the first in the model's order
    CHECK(entry(report, "1.bias").copy_reason == "overlaps another shared source");
    CHECK(report.shared_count() == 5);  // 1.weight, 1.running_mean, 1.running_var, 1.num_batches_tracked, 2.bias
    CHECK(report.copied_count() == 4);
    const std::string table = report.table();
    CHECK(table.find("copied, not shared: misaligned") != std::string::npos);
    CHECK(table.find("float64 -> float32; copied, not shared: dtype float64 differs") != std::string::npos);

    const NamedTensors sd = model->state_dict();
    CHECK(values(sd.at("0.weight")) == std::vector<float>(12, 1.5f));
    CHECK(values(sd.at("0.bias")) == std::vector<float>{1, 2, 3, 4});
    CHECK(values(sd.at("2.weight")) == std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7});
    CHECK(values(sd.at("1.bias")) == std::vector<float>(4, 3.0f));
    // In-memory sources are shared, not copied: the caller's tensor and the
    // model's are one (as PyTorch's load_state_dict(assign=True)).
    src.at("2.bias").fill_(9.0);
    CHECK(values(sd.at("2.bias")) == std::vector<float>(2, 9.0f));
    // The copied one of the tied pair is the model's own.
    tied.fill_(-1.0);
    CHECK(values(sd.at("1.weight")) == std::vector<float>(4, -1.0f));
    CHECK(values(sd.at("1.bias")) == std::vector<float>(4, 3.0f));
}

namespace {
struct FcBn : nn::Module {
    std::shared_ptr<nn::Linear> fc;
    std::shared_ptr<nn::BatchNorm1d> bn;
    FcBn() : nn::Module("FcBn") {
        fc = register_module("fc", std::make_shared<nn::Linear>(4, 3));
        bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(3));
    }
};
}  // namespace

TEST_CASE("share_memory: a torch.save zip file's stored records are shared", "[load_pretrained][share]") {
    const std::string path = std::string(GRAFT_FIXTURES_DIR) + "/pytorch/t2_sd_zip.pt";
    const std::string before = file_bytes(path);
    auto model = std::make_shared<FcBn>();
    optim::SGD opt(model->parameters(), {.lr = 0.1});
    const auto report = load_pretrained(*model, path, {.strict = false, .share_memory = true});
    INFO(report.table(true));
    CHECK(report.missing.empty());
    CHECK(report.loaded.size() == 7);
    CHECK(report.shared_count() == 7);  // torch's writer aligns each record to 64 bytes
    std::vector<float> fc_weight;
    for (int i = 0; i < 12; ++i) fc_weight.push_back(-0.5f + 0.125f * float(i));
    CHECK(values(model->fc->weight) == fc_weight);
    CHECK(values(model->fc->bias) == std::vector<float>{0.25f, -1.5f, 3.0f});

    model->train();
    opt.zero_grad();
    Tensor loss = pow((*model->bn)((*model->fc)(ones({5, 4}))), 2.0).mean();
    loss.backward();
    opt.step();
    CHECK(values(model->fc->weight) != fc_weight);
    CHECK(file_bytes(path) == before);  // a committed fixture: training must not touch it
}

TEST_CASE("share_memory: writing over the source file with Graft's writer leaves the model alone", "[load_pretrained][share]") {
    // Graft's writers replace a file by rename (io/formats/atomic_file.h): the
    // model keeps the old file's pages (untouched ones still read from it), the
    // path gets the new bytes.
    testing::TempDir dir("share");
    const std::string path = write_source(dir);
    const NamedTensors original = io::read_weights(path, {.copy = true, .key = ""});
    auto model = small_model();
    optim::SGD opt(model->parameters(), {.lr = 0.1});
    CHECK(load_pretrained(*model, path, {.share_memory = true}).shared_count() == 9);

    manual_seed(99);
    io::write_safetensors(path, small_model()->state_dict());  // other values, same layout
    for (const auto& [name, t] : model->state_dict()) CHECK(values(t) == values(original.at(name)));
    io::write_safetensors(path, NamedTensors());  // a file shorter than the old one
    for (const auto& [name, t] : model->state_dict()) CHECK(values(t) == values(original.at(name)));
    train_step(*model, opt);  // still trainable
    CHECK(values(model->state_dict().at("2.weight")) != values(original.at("2.weight")));
}
