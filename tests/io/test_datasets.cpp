// In-memory, IDX and CSV datasets, subsets, random_split and few_shot: contents,
// labels, sources, determinism per seed, and every refusal naming the file.
#include <catch2/catch.hpp>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "graft.h"
#include "io/datasets/csv_dataset.h"
#include "io/datasets/fashion_mnist.h"
#include "io/datasets/idx.h"
#include "io/datasets/idx_dataset.h"
#include "io/datasets/splits.h"
#include "io/datasets/tensor_dataset.h"
#include "io/loader/data_loader.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using namespace graft;
using namespace graft::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {


std::string be32(uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// [n] labels (uint8) and [n, 2, 2] images whose pixels all equal the item index.
std::string idx_labels(const std::vector<uint8_t>& labels) {
    std::string b = std::string("\0\0\x08\x01", 4) + be32(uint32_t(labels.size()));
    for (uint8_t l : labels) b += char(l);
    return b;
}
std::string idx_images(uint32_t n) {
    std::string b = std::string("\0\0\x08\x03", 4) + be32(n) + be32(2) + be32(2);
    for (uint32_t i = 0; i < n; ++i) b += std::string(4, char(i));
    return b;
}

std::shared_ptr<TensorDataset> labelled(const std::vector<int64_t>& labels, std::vector<std::string> names = {}) {
    const int64_t n = int64_t(labels.size());
    return std::make_shared<TensorDataset>(arange(0, n, 1, DType::Float32), from_vector(labels), std::move(names));
}

}  // namespace

TEST_CASE("TensorDataset: items are rows, targets int64 scalars", "[datasets]") {
    auto ds = std::make_shared<TensorDataset>(arange(0, 6, 1, DType::Float32).reshape({3, 2}),
                                              from_vector(std::vector<int64_t>{2, 0, 1}),
                                              std::vector<std::string>{"a", "b", "c"});
    CHECK(ds->size() == 3);
    const Example e = ds->get(1);
    CHECK(e.input.to_vector<float>() == std::vector<float>{2, 3});
    CHECK(e.target.dim() == 0);
    CHECK(e.target.dtype() == DType::Int64);
    CHECK(e.target.item<int64_t>() == 0);
    CHECK(ds->label(0) == 2);
    CHECK(ds->class_names() == std::vector<std::string>{"a", "b", "c"});
    CHECK_THROWS_WITH(ds->get(3), Contains("index 3") && Contains("3 items"));
    CHECK_THROWS_WITH(ds->get(-1), Contains("index -1"));
    CHECK_THROWS_WITH(TensorDataset(zeros({3, 2}), zeros({4})), Contains("[3, 2]") && Contains("[4]"));
    CHECK_THROWS_WITH(TensorDataset(zeros({2}), from_vector(std::vector<int64_t>{0, 3}), {"a", "b"}),
                      Contains("target 1 is 3"));

    // Regression targets pass through as rows; label() refuses them.
    TensorDataset reg(zeros({2, 3}), ones({2, 4}));
    CHECK(reg.get(0).target.shape() == Shape{4});
    CHECK_THROWS_WITH(reg.label(0), Contains("not integer class ids"));
}

TEST_CASE("with_transform applies the transform with the item's generator", "[datasets]") {
    auto base = labelled({0, 1, 2});
    auto noisy = with_transform(base, [](Tensor x, Generator& gen) { return x + rand({}, DType::Float32, &gen); });
    Generator g1{7}, g2{7}, g3{8};
    const float a = noisy->get(1, g1).input.item<float>(), b = noisy->get(1, g2).input.item<float>();
    CHECK(a == b);
    CHECK(a != noisy->get(1, g3).input.item<float>());
    CHECK(a >= 1.0f);
    CHECK(a < 2.0f);
    CHECK(noisy->label(2) == 2);
    CHECK_THROWS_WITH(with_transform(base, nullptr), Contains("empty"));
}

TEST_CASE("IdxDataset: images and labels from IDX files", "[datasets]") {
    TempDir dir("datasets");
    const std::string images = dir.write("img.idx", idx_images(4));
    const std::string labels = dir.write("lbl.idx", idx_labels({3, 1, 4, 1}));
    IdxDataset ds(images, labels);
    CHECK(ds.size() == 4);
    CHECK(ds.get(2).input.shape() == Shape{2, 2});
    CHECK(ds.get(2).input.to_vector<int64_t>() == std::vector<int64_t>{2, 2, 2, 2});
    CHECK(ds.get(2).target.item<int64_t>() == 4);
    CHECK(ds.label(3) == 1);
    CHECK_THAT(ds.source(1), Contains("img.idx[1]"));

    const std::string short_labels = dir.write("short.idx", idx_labels({1, 2}));
    CHECK_THROWS_WITH(IdxDataset(images, short_labels), Contains("4 images") && Contains("2 labels"));
    const std::string bad = dir.write("bad.idx", std::string("\x01\x02\x08\x01", 4) + be32(0));
    CHECK_THROWS_WITH(IdxDataset(images, bad), Contains("bad.idx") && Contains("bad magic"));
    CHECK_THROWS_WITH(IdxDataset(images, labels, {"a", "b"}), Contains("label 0 is 3"));
}

TEST_CASE("random_split: disjoint parts covering the data, fixed by the seed", "[datasets]") {
    auto ds = labelled(std::vector<int64_t>(103, 0));
    const auto parts = random_split(ds, std::vector<double>{0.8, 0.1, 0.1}, 42);
    REQUIRE(parts.size() == 3);
    // floor(82.4)=82, floor(10.3)=10, 10; the 1 left over goes to the first part.
    CHECK(parts[0]->size() == 83);
    CHECK(parts[1]->size() == 10);
    CHECK(parts[2]->size() == 10);
    std::set<int64_t> all;
    for (const auto& p : parts)
        for (int64_t i : p->indices()) all.insert(i);
    CHECK(all.size() == 103);
    CHECK(random_split(ds, std::vector<double>{0.8, 0.1, 0.1}, 42)[1]->indices() == parts[1]->indices());
    CHECK(random_split(ds, std::vector<double>{0.8, 0.1, 0.1}, 43)[1]->indices() != parts[1]->indices());
    // A subset's items are the parent's.
    const int64_t first = parts[1]->indices()[0];
    CHECK(parts[1]->get(0).input.item<float>() == float(first));

    CHECK(random_split(ds, std::vector<int64_t>{3, 100}, 1)[0]->size() == 3);
    CHECK_THROWS_WITH(random_split(ds, std::vector<int64_t>{3, 3}, 1), Contains("sum to 6") && Contains("103"));
    CHECK_THROWS_WITH(random_split(ds, std::vector<double>{0.5, 0.4}, 1), Contains("not 1"));
    CHECK_THROWS_WITH(random_split(ds, std::vector<double>{1.5, -0.5}, 1), Contains("-0.5"));
    CHECK_THROWS_WITH(Subset(ds, {0, 103}), Contains("103"));
}

TEST_CASE("few_shot: k per class, seeded, stratified", "[datasets]") {
    std::vector<int64_t> labels;
    for (int i = 0; i < 60; ++i) labels.push_back(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 2);
    auto ds = labelled(labels, {"cat", "dog", "eel"});
    const auto shot = few_shot(ds, 5, 9);
    REQUIRE(shot->size() == 15);
    std::map<int64_t, int> per_class;
    for (int64_t i = 0; i < shot->size(); ++i) ++per_class[shot->label(i)];
    CHECK(per_class == std::map<int64_t, int>{{0, 5}, {1, 5}, {2, 5}});
    CHECK(std::is_sorted(shot->indices().begin(), shot->indices().end()));
    CHECK(few_shot(ds, 5, 9)->indices() == shot->indices());
    CHECK(few_shot(ds, 5, 10)->indices() != shot->indices());
    // A larger k keeps the same generator per class: the 5 are a prefix of the 6
    // in each class's order, so every item of the 5-shot is in the 6-shot.
    const auto six = few_shot(ds, 6, 9)->indices();
    for (int64_t i : shot->indices()) CHECK(std::count(six.begin(), six.end(), i) == 1);

    const auto rest = complement(*shot);
    CHECK(rest->size() == 45);
    for (int64_t i : rest->indices()) CHECK(std::count(shot->indices().begin(), shot->indices().end(), i) == 0);

    CHECK_THROWS_WITH(few_shot(ds, 21, 1), Contains("class 0 (cat) has 20 items, fewer than k = 21"));
    CHECK_THROWS_WITH(few_shot(labelled({0, 0, 2}, {"a", "b", "c"}), 1, 1), Contains("class 1 (b) has 0"));
    CHECK_THROWS_WITH(few_shot(ds, 0, 1), Contains("at least 1"));
}

TEST_CASE("CsvDataset: features, labels by name or index, header detection", "[datasets]") {
    auto named = CsvDataset::from_text("sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n"
                                       "6.3,6.0,virginica\r\n\n5.0,\"1.5\",setosa\n",
                                       "iris.csv", {.label_column = "species"});
    CHECK(named->size() == 4);
    CHECK(named->features().shape() == Shape{4, 2});
    CHECK(named->get(3).input.to_vector<float>() == std::vector<float>{5.0f, 1.5f});
    CHECK(named->class_names() == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(named->labels() == std::vector<int64_t>{0, 1, 2, 0});
    CHECK(named->feature_names() == std::vector<std::string>{"sepal", "petal"});
    CHECK(named->source(3) == "iris.csv:6");

    // No header (all numbers), integer labels in the first column.
    auto numeric = CsvDataset::from_text("1;0.5;2\n0;-1e3;4\n", "n.csv", {.delimiter = ';', .label_index = 0});
    CHECK(numeric->size() == 2);
    CHECK(numeric->labels() == std::vector<int64_t>{1, 0});
    CHECK(numeric->get(1).input.to_vector<float>() == std::vector<float>{-1000.0f, 4.0f});
    CHECK(numeric->class_names().empty());
    // Auto sees a header from its non-numeric feature names.
    CHECK(CsvDataset::from_text("a,b,y\n1,2,0\n", "h.csv")->size() == 1);
    CHECK(CsvDataset::from_text("1,2,0\n3,4,1\n", "h.csv", {.header = CsvHeader::Yes})->size() == 1);
}

TEST_CASE("CsvDataset: bad input names file and line", "[datasets]") {
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,2,0\n1,2\n", "f.csv"),
                      Contains("f.csv:3") && Contains("row has 2 fields, expected 3"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,x,0\n", "f.csv"),
                      Contains("f.csv:2") && Contains("(b) is 'x'") && Contains("not a number"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,,0\n", "f.csv"), Contains("f.csv:2") && Contains("missing"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,2,\n", "f.csv"), Contains("label") && Contains("empty"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,2,0\n", "f.csv", {.label_column = "z"}),
                      Contains("no column named 'z'"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,\"2,0\n", "f.csv"), Contains("f.csv:2") && Contains("never closed"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n1,\"2\"x,0\n", "f.csv"), Contains("after a closing quote"));
    CHECK_THROWS_WITH(CsvDataset::from_text("", "f.csv"), Contains("f.csv") && Contains("empty"));
    CHECK_THROWS_WITH(CsvDataset::from_text("a,b,y\n", "f.csv"), Contains("no data rows"));
    CHECK_THROWS_WITH(CsvDataset::from_text("1,2\n", "f.csv", {.label_index = 5}), Contains("out of range"));
    CHECK_THROWS_WITH(CsvDataset("/nonexistent/x.csv"), Contains("/nonexistent/x.csv") && Contains("no such file"));
    TempDir dir("datasets");
    CHECK_THROWS_WITH(CsvDataset(dir.path.string()), Contains("is a directory"));
    const std::string path = dir.write("ok.csv", "x,y\n1.5,2\n");
    CHECK(CsvDataset(path).get(0).input.item<float>() == 1.5f);
}

namespace {

std::string gzip(const std::string& raw) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, uLong(raw.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    z.avail_in = uInt(raw.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

TEST_CASE("parse_idx: IDX from memory, raw or gzipped, as strict as read_idx", "[datasets][idx]") {
    const std::string raw = idx_images(3);
    const Tensor a = parse_idx(raw.data(), raw.size(), "mem.idx");
    CHECK(a.shape() == Shape{3, 2, 2});
    CHECK(a.to_vector<int64_t>()[8] == 2);
    const std::string gz = gzip(raw);
    const Tensor b = parse_idx(gz.data(), gz.size(), "mem.idx.gz");
    CHECK(b.to_vector<int64_t>() == a.to_vector<int64_t>());
    // Two gzip members read as one stream, as gzread does.
    const std::string two = gzip(raw.substr(0, 7)) + gzip(raw.substr(7));
    CHECK(parse_idx(two.data(), two.size(), "two.gz").to_vector<int64_t>() == a.to_vector<int64_t>());

    CHECK_THROWS_WITH(parse_idx(raw.data(), raw.size() - 1, "cut.idx"), Contains("cut.idx") && Contains("truncated"));
    const std::string extra = raw + "!";
    CHECK_THROWS_WITH(parse_idx(extra.data(), extra.size(), "x.idx"), Contains("trailing data"));
    const std::string cut_gz = gz.substr(0, gz.size() - 12);
    CHECK_THROWS_WITH(parse_idx(cut_gz.data(), cut_gz.size(), "c.gz"), Contains("c.gz") && Contains("ends early"));
    std::string bad_gz = gz;
    bad_gz[12] = char(bad_gz[12] ^ 0x55);
    CHECK_THROWS_AS(parse_idx(bad_gz.data(), bad_gz.size(), "b.gz"), Error);
    CHECK_THROWS_WITH(parse_idx("\x01\x00\x08\x01", 4, "m.idx"), Contains("m.idx") && Contains("bad magic"));
    CHECK_THROWS_WITH(parse_idx("", 0, "e.idx"), Contains("too short"));
    const std::string huge = std::string("\0\0\x08\x02", 4) + be32(0xFFFF) + be32(0xFFFF);
    CHECK_THROWS_WITH(parse_idx(huge.data(), huge.size(), "h.idx"), Contains("truncated"));
}

// The whole chain on real data (Debian's dataset-fashion-mnist, required in CI
// as in test_idx.cpp): IdxDataset with class names, a 10-shot subset, a split
// of the rest, and a loader over it.
TEST_CASE("Fashion-MNIST t10k: IdxDataset, few_shot, random_split, DataLoader", "[datasets][data]") {
    const std::string dir = kFashionMnistDir;
    const std::string images = dir + "/t10k-images-idx3-ubyte.gz", labels = dir + "/t10k-labels-idx1-ubyte.gz";
    if (!fs::exists(images) || !fs::exists(labels)) {
        const char* ci = std::getenv("CI");
        if (ci && std::string(ci) == "true") FAIL(images << " is missing: apt-get install dataset-fashion-mnist");
        WARN("not checked: " << images << " is missing (apt-get install dataset-fashion-mnist)");
        return;
    }
    auto ds = std::make_shared<IdxDataset>(
        images, labels, std::vector<std::string>(FashionMnist::classes.begin(), FashionMnist::classes.end()));
    REQUIRE(ds->size() == 10000);
    CHECK(ds->class_names()[9] == "Ankle boot");
    CHECK(ds->label(0) == 9);

    const auto shot = few_shot(ds, 10, 3);
    REQUIRE(shot->size() == 100);
    std::vector<int> per_class(10, 0);
    for (int64_t i = 0; i < shot->size(); ++i) ++per_class.at(size_t(shot->label(i)));
    CHECK(per_class == std::vector<int>(10, 10));

    const auto parts = random_split(complement(*shot), std::vector<double>{0.9, 0.1}, 3);
    CHECK(parts[0]->size() == 8910);
    CHECK(parts[1]->size() == 990);

    DataLoader loader(parts[1], {.batch_size = 64, .shuffle = true, .seed = 1, .drop_last = true, .num_workers = 2});
    int64_t batches = 0;
    for (const Batch& b : loader) {
        CHECK(b.inputs.shape() == Shape{64, 28, 28});
        CHECK(b.inputs.dtype() == DType::UInt8);
        CHECK(b.targets.shape() == Shape{64});
        ++batches;
    }
    CHECK(batches == 990 / 64);
}
