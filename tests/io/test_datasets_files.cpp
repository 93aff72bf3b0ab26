// File-backed datasets: ImageFolder (torchvision's class and file order,
// extension filter, empty folders, real PNG decoding through io/image, a
// corrupt image named by the loader, skip mode) and TextClassification (TSV,
// CSV, JSONL and ARFF, label numbering, errors naming file:line). The ARFF
// sample is a tiny hand-written file in the shape of Weka's
// ReutersCorn-train.arff; the real file is read too when Debian's weka package
// is installed (/usr/share/doc/weka/examples), and skipped otherwise.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "graft.h"
#include "io/datasets/image_folder.h"
#include "io/datasets/text_classification.h"
#include "io/image/image_write.h"
#include "io/transforms/transforms.h"
#include "io/loader/data_loader.h"
#include "tests/support/temp_dir.h"

using graft::testing::TempDir;
using namespace graft;
using namespace graft::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {


std::vector<std::string> relative_paths(const ImageFolder& ds, const std::string& root) {
    std::vector<std::string> out;
    for (const ImageSample& s : ds.samples()) out.push_back(fs::relative(s.path, root).string());
    return out;
}

// A decode that reads no pixels: the file's size as a [1] tensor.
Tensor file_size_tensor(const std::string& path) {
    return full({1}, int64_t(fs::file_size(path)), DType::Int64);
}

}  // namespace

TEST_CASE("ImageFolder: classes and files in torchvision's order", "[datasets][image_folder]") {
    TempDir dir("dsfiles");
    for (const char* f : {"dog/b.png", "dog/A.JPG", "cat/z.jpeg", "cat/a-x/c.jpg", "cat/a/b.jpg", "cat/notes.txt",
                          "cat/a.PNG", "bird/x.webp", "bird/.hidden.png"})
        dir.write(f);
    dir.write("readme.md");  // a file at the top level is not a class
    ImageFolder ds(dir.str(), {.decode = file_size_tensor});
    CHECK(ds.class_names() == std::vector<std::string>{"bird", "cat", "dog"});
    // Folder by folder (sorted by folder path, "cat" < "cat/a" < "cat/a-x"), names sorted in each.
    CHECK(relative_paths(ds, dir.str()) ==
          std::vector<std::string>{"bird/.hidden.png", "bird/x.webp", "cat/a.PNG", "cat/z.jpeg", "cat/a/b.jpg",
                                   "cat/a-x/c.jpg", "dog/A.JPG", "dog/b.png"});
    CHECK(ds.size() == 8);
    CHECK(ds.label(0) == 0);
    CHECK(ds.label(5) == 1);
    CHECK(ds.label(7) == 2);
    CHECK(ds.source(4) == ds.samples()[4].path);
    CHECK(ds.get(4).target.item<int64_t>() == 1);
    CHECK(ds.get(4).input.item<int64_t>() == 1);

    ImageFolder only_png(dir.str(), {.extensions = {".PNG"}, .decode = file_size_tensor, .allow_empty_classes = true});
    CHECK(only_png.size() == 3);
    CHECK(has_extension("a/B.JpEg", {".jpeg"}));
    CHECK_FALSE(has_extension("a/jpeg", {".jpeg"}));
}

TEST_CASE("ImageFolder: refuses missing roots and empty folders", "[datasets][image_folder]") {
    TempDir dir("dsfiles");
    CHECK_THROWS_WITH(ImageFolder(dir.str() + "/nope"), Contains("/nope: no such folder"));
    CHECK_THROWS_WITH(ImageFolder(dir.str()), Contains(dir.str()) && Contains("no class folders"));
    const std::string file = dir.write("file.jpg");
    CHECK_THROWS_WITH(ImageFolder(file), Contains("not a folder"));
    dir.write("a/x.jpg");
    fs::create_directories(dir.path / "b");
    dir.write("c/readme.txt");
    CHECK_THROWS_WITH(ImageFolder(dir.str()), Contains("no image files in class folder(s) b, c") && Contains(".jpg"));
    CHECK(ImageFolder(dir.str(), {.allow_empty_classes = true}).size() == 1);
}

TEST_CASE("ImageFolder: decodes PNGs, applies the transform, loader names a corrupt file", "[datasets][image_folder]") {
    TempDir dir("dsfiles");
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < 3; ++i) {
            Tensor img = full({4, 5, 3}, 40 * c + 10 * i, DType::UInt8);
            fs::create_directories(dir.path / (c ? "ship" : "car"));
            write_png((dir.path / (c ? "ship" : "car") / (std::to_string(i) + ".png")).string(), img);
        }
    const std::string broken = dir.write("ship/9.png", "not a png at all");

    // An io/transforms pipeline through sample_transform, as a training set would use it.
    using namespace graft::io::transforms;
    ImageFolder cropped(dir.str(), {.transform = sample_transform(compose({make<CenterCrop>(2), make<ToTensor>()}))});
    CHECK(cropped.get(1).input.shape() == Shape{3, 2, 2});
    CHECK(cropped.get(1).input.to_vector<float>()[0] == Approx(10.0 / 255));
    ImageFolder plain(dir.str());
    const Example e = plain.get(4);
    CHECK(e.input.shape() == Shape{4, 5, 3});
    CHECK(e.input.dtype() == DType::UInt8);
    CHECK(e.input.to_vector<int64_t>()[0] == 50);
    CHECK(e.target.item<int64_t>() == 1);

    auto ds = std::make_shared<ImageFolder>(dir.str(), ImageFolderOptions{
        .transform = [](Tensor x, Generator& gen) { return x.to(DType::Float32) + rand({}, DType::Float32, &gen); }});
    DataLoader loader(ds, {.batch_size = 7, .num_workers = 2});
    CHECK_THROWS_WITH(loader.pass().next(), Contains("item 6 (" + broken + ")"));

    DataLoader skipping(ds, {.batch_size = 7, .num_workers = 2, .skip_unreadable = true});
    const auto batch = skipping.pass().next();
    REQUIRE(batch.has_value());
    CHECK(batch->inputs.shape() == Shape{6, 4, 5, 3});
    CHECK(batch->inputs.dtype() == DType::Float32);
    CHECK(batch->targets.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0, 1, 1, 1});
    CHECK(skipping.skipped() == 1);
}

TEST_CASE("TextClassification: TSV, CSV and JSONL", "[datasets][text]") {
    // TSV takes quotes literally (SST-2 style); labels are integers.
    auto tsv = TextClassification::from_text("sentence\tlabel\nit 's \"fine\t1\n\ndull .\t0\n", "sst.tsv",
                                             {.text_column = "sentence"});
    REQUIRE(tsv->size() == 2);
    CHECK(tsv->text(0) == "it 's \"fine");
    CHECK(tsv->label(0) == 1);
    CHECK(tsv->label(1) == 0);
    CHECK(tsv->source(1) == "sst.tsv:4");
    CHECK(tsv->class_names().empty());
    const Example e = tsv->get(1);
    CHECK(e.input.dtype() == DType::UInt8);
    CHECK(e.input.to_vector<int64_t>() == std::vector<int64_t>{'d', 'u', 'l', 'l', ' ', '.'});

    // CSV with quoting; named labels numbered in sorted order; an encoder.
    auto csv = TextClassification::from_text("label,text\nsports,\"goal, then \"\"another\"\"\"\nworld,news\n"
                                             "business,\"two\nlines\"\n",
                                             "ag.csv",
                                             {.encode = [](const std::string& s) { return full({1}, int64_t(s.size()), DType::Int64); }});
    REQUIRE(csv->size() == 3);
    CHECK(csv->text(0) == "goal, then \"another\"");
    CHECK(csv->text(2) == "two\nlines");
    CHECK(csv->class_names() == std::vector<std::string>{"business", "sports", "world"});
    CHECK(csv->label(0) == 1);
    CHECK(csv->get(2).input.item<int64_t>() == 9);
    CHECK(csv->source(2) == "ag.csv:4");

    // Without a header, columns by index.
    auto plain = TextClassification::from_text("pos,great\nneg,bad\n", "x.csv",
                                               {.header = false, .text_index = 1, .label_index = 0});
    CHECK(plain->text(1) == "bad");
    CHECK(plain->class_names() == std::vector<std::string>{"neg", "pos"});

    auto jsonl = TextClassification::from_text("{\"text\": \"caf\\u00e9\", \"label\": 2}\n\n{\"label\": 0, \"text\": \"b\"}\r\n",
                                               "d.jsonl");
    REQUIRE(jsonl->size() == 2);
    CHECK(jsonl->text(0) == "caf\xC3\xA9");
    CHECK(jsonl->label(0) == 2);
    CHECK(jsonl->source(1) == "d.jsonl:3");
}

TEST_CASE("TextClassification: errors name file and line", "[datasets][text]") {
    CHECK_THROWS_WITH(TextClassification::from_text("text\tlabel\na\t1\nb\n", "t.tsv"),
                      Contains("t.tsv:3") && Contains("row has 1 fields, expected 2"));
    CHECK_THROWS_WITH(TextClassification::from_text("txt\tlabel\na\t1\n", "t.tsv"), Contains("no column named 'text'"));
    CHECK_THROWS_WITH(TextClassification::from_text("text\tlabel\na\t \n", "t.tsv"),
                      Contains("t.tsv:2") && Contains("label is empty"));
    CHECK_THROWS_WITH(TextClassification::from_text("{\"text\": \"a\", \"label\": 1}\n{oops\n", "d.jsonl"),
                      Contains("d.jsonl:2") && Contains("not a JSON object"));
    CHECK_THROWS_WITH(TextClassification::from_text("{\"text\": \"a\"}\n", "d.jsonl"), Contains("no key \"label\""));
    CHECK_THROWS_WITH(TextClassification::from_text("{\"text\": \"a\", \"label\": [1]}\n", "d.jsonl"),
                      Contains("\"label\" is array"));
    CHECK_THROWS_WITH(TextClassification::from_text("a,b\n", "data.txt"), Contains("cannot tell the format"));
    CHECK_THROWS_WITH(TextClassification("/nonexistent/t.tsv"), Contains("/nonexistent/t.tsv: no such file"));
}

namespace {

// The shape of Weka's ReutersCorn-train.arff (a string attribute, then the
// class), with its quoting and escapes.
const char* kTinyArff = R"(% A tiny sample in the format of Weka's ReutersCorn-train.arff
@relation 'Reuters-21578 corn ModApte Train-weka.filters.Filter'

@attribute Text string
@attribute class-att {0,1}

@data
'BAHIA COCOA REVIEW\nShowers continued throughout the week.',0
'U.S. CORN \'SET-ASIDE\' PLAN, say officials',1
  "double \"quoted\", text" , 0   % trailing comment
)";

}  // namespace

TEST_CASE("TextClassification: ARFF string data", "[datasets][text]") {
    auto ds = TextClassification::from_text(kTinyArff, "corn.arff");
    REQUIRE(ds->size() == 3);
    CHECK(ds->class_names() == std::vector<std::string>{"0", "1"});
    CHECK(ds->text(0) == "BAHIA COCOA REVIEW\nShowers continued throughout the week.");
    CHECK(ds->text(1) == "U.S. CORN 'SET-ASIDE' PLAN, say officials");
    CHECK(ds->text(2) == "double \"quoted\", text");
    CHECK(ds->label(1) == 1);
    CHECK(ds->label(2) == 0);
    CHECK(ds->source(1) == "corn.arff:9");

    CHECK_THROWS_WITH(TextClassification::from_text("@relation r\n@attribute t string\n@attribute c {a,b}\n@data\n'x',c\n", "r.arff"),
                      Contains("r.arff:5") && Contains("label 'c' is not one of"));
    CHECK_THROWS_WITH(TextClassification::from_text("@relation r\n@attribute t string\n@attribute c {a,b}\n@data\n'x'\n", "r.arff"),
                      Contains("r.arff:5") && Contains("1 values, expected 2"));
    CHECK_THROWS_WITH(TextClassification::from_text("@relation r\n@attribute t string\n@attribute c {a,b}\n@data\n{0 'x'}\n", "r.arff"),
                      Contains("sparse"));
    CHECK_THROWS_WITH(TextClassification::from_text("@relation r\n@attribute t string\n@attribute c {a,b}\n", "r.arff"),
                      Contains("no @data"));
    CHECK_THROWS_WITH(TextClassification::from_text("@relation r\n@attribute n numeric\n@attribute c {a,b}\n@data\n1,a\n", "r.arff"),
                      Contains("no string attribute"));
    CHECK_THROWS_WITH(TextClassification::from_text("@relation r\n@attribute t string\n@data\n'unclosed\n", "r.arff"),
                      Contains("r.arff:4") && Contains("never closed"));
}

TEST_CASE("TextClassification: Weka's ReutersCorn-train.arff when installed", "[datasets][text]") {
    // GRAFT_WEKA_ARFF may point at a copy (e.g. from `apt-get download weka; dpkg -x`).
    const char* env = std::getenv("GRAFT_WEKA_ARFF");
    const std::string path = env ? env : "/usr/share/doc/weka/examples/ReutersCorn-train.arff";
    if (!fs::exists(path)) {
        WARN("skipped: " << path << " is absent (Debian package weka not installed)");
        return;
    }
    TextClassification ds(path);
    // 1554 documents of which 45 are about corn (Weka 3.6.14's file).
    CHECK(ds.size() == 1554);
    CHECK(ds.class_names() == std::vector<std::string>{"0", "1"});
    int64_t corn = 0;
    for (int64_t i = 0; i < ds.size(); ++i) corn += ds.label(i);
    CHECK(corn == 45);
    CHECK(ds.text(0).rfind("BAHIA COCOA REVIEW Showers continued throughout the week in\nthe Bahia", 0) == 0);
}
