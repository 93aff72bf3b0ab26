// transfer/training/metrics_log: CSV and JSONL rows written, read back and
// parsed; fixed CSV columns; appending to a resumed run; errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "transfer/training/metrics_log.h"

using namespace graft::transfer;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
    fs::path dir = fs::temp_directory_path() / ("graft_metrics_log_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

std::vector<std::string> lines_of(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("MetricValue cells: integers, shortest round-trip doubles, text", "[transfer][metrics_log]") {
    CHECK(MetricValue(3).to_string() == "3");
    CHECK(MetricValue(int64_t(-9000000000)).to_string() == "-9000000000");
    CHECK(MetricValue(0.1).to_string() == "0.1");
    CHECK(MetricValue(1e-3).to_string() == "0.001");
    CHECK(std::stod(MetricValue(1.0 / 3).to_string()) == 1.0 / 3);
    CHECK(MetricValue(std::nan("")).to_string() == "nan");
    CHECK(MetricValue(-INFINITY).to_string() == "-inf");
    CHECK(MetricValue("train").to_string() == "train");
    CHECK(csv_escape("a,b") == "\"a,b\"");
    CHECK(csv_escape("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(csv_escape("plain") == "plain");
}

TEST_CASE("MetricsLog CSV: header from the first row, flushed rows, missing cells", "[transfer][metrics_log]") {
    fs::path dir = temp_dir();
    const std::string path = (dir / "sub" / "m.csv").string();  // parent folders are created
    MetricsLog log(path);
    CHECK(log.format() == LogFormat::Csv);
    log.write({{"epoch", 1}, {"step", 10}, {"loss", 0.5}, {"phase", "train, warm-up"}});
    // Flushed: readable before close.
    CHECK(lines_of(path) == std::vector<std::string>{"epoch,step,loss,phase", "1,10,0.5,\"train, warm-up\""});
    log.write({{"loss", 0.25}, {"epoch", 2}});  // other order, missing keys
    CHECK_THROWS_WITH(log.write({{"epoch", 2}, {"val_loss", 0.3}}),
                      Contains("val_loss") && Contains("m.csv") && Contains("[epoch, step, loss, phase]"));
    CHECK_THROWS_WITH(log.write({{"epoch", 2}, {"epoch", 3}}), Contains("twice"));
    log.close();
    CHECK_THROWS_WITH(log.write({{"epoch", 3}}), Contains("closed"));
    CHECK(lines_of(path) == std::vector<std::string>{"epoch,step,loss,phase", "1,10,0.5,\"train, warm-up\"", "2,,0.25,"});
    CHECK(log.rows_written() == 2);
    fs::remove_all(dir);
}

TEST_CASE("MetricsLog CSV: declared columns, append resumes with the file's header", "[transfer][metrics_log]") {
    fs::path dir = temp_dir();
    const std::string path = (dir / "run.csv").string();
    {
        MetricsLogOptions opt;
        opt.columns = {"epoch", "step", "loss", "val_loss"};
        MetricsLog log(path, opt);
        log.write({{"epoch", 1}, {"step", 1}, {"loss", 2.5}});
        log.write({{"epoch", 1}, {"val_loss", 2.0}});
    }
    {
        // A killed run can leave half a row: the next row still starts on its own line.
        std::ofstream(path, std::ios::app) << "1,2,2.4";
        MetricsLogOptions opt;
        opt.append = true;
        MetricsLog log(path, opt);
        CHECK(log.columns() == std::vector<std::string>{"epoch", "step", "loss", "val_loss"});
        log.write({{"epoch", 2}, {"step", 3}, {"loss", 1.5}});
    }
    CHECK(lines_of(path) ==
          std::vector<std::string>{"epoch,step,loss,val_loss", "1,1,2.5,", "1,,,2", "1,2,2.4", "2,3,1.5,"});
    MetricsLogOptions other;
    other.append = true;
    other.columns = {"epoch", "loss"};
    CHECK_THROWS_WITH(MetricsLog(path, other), Contains("has columns [epoch, step, loss, val_loss]"));
    fs::remove_all(dir);
}

TEST_CASE("MetricsLog JSONL: one object per line, keys in order, NaN as null", "[transfer][metrics_log]") {
    fs::path dir = temp_dir();
    const std::string path = (dir / "m.jsonl").string();
    {
        MetricsLog log(path);
        CHECK(log.format() == LogFormat::Jsonl);
        log.write({{"step", 1}, {"loss", 0.125}, {"phase", "train"}});
        log.write({{"epoch", 1}, {"val_acc", 0.875}, {"val_loss", std::nan("")}});
    }
    std::vector<std::string> lines = lines_of(path);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == R"({"step":1,"loss":0.125,"phase":"train"})");
    nlohmann::json second = nlohmann::json::parse(lines[1]);
    CHECK(second["epoch"] == 1);
    CHECK(second["val_acc"].get<double>() == 0.875);
    CHECK(second["val_loss"].is_null());
    {
        MetricsLogOptions opt;
        opt.append = true;
        MetricsLog log(path, opt);
        log.write({{"step", 2}});
    }
    CHECK(lines_of(path).size() == 3);
    fs::remove_all(dir);
}

TEST_CASE("MetricsLog errors name the file", "[transfer][metrics_log]") {
    CHECK_THROWS_WITH(MetricsLog("metrics.txt"), Contains("metrics.txt") && Contains(".jsonl"));
    CHECK_THROWS_WITH(MetricsLog("/proc/graft-no/such.csv"), Contains("/proc/graft-no/such.csv"));
    MetricsLogOptions opt;
    opt.format = LogFormat::Jsonl;
    opt.columns = {"a"};
    CHECK_THROWS_WITH(MetricsLog("x.log", opt), Contains("columns are for CSV"));
    opt.format = LogFormat::Csv;
    opt.columns = {"a", "a"};
    CHECK_THROWS_WITH(MetricsLog("x.log", opt), Contains("twice"));
}

TEST_CASE("read_metrics_log reads both formats back with their types", "[transfer][metrics_log]") {
    fs::path dir = temp_dir();
    const std::string csv = (dir / "r.csv").string(), jsonl = (dir / "r.jsonl").string();
    for (const std::string& path : {csv, jsonl}) {
        MetricsLog log(path, MetricsLogOptions{LogFormat::Auto, false,
                                               path == csv ? std::vector<std::string>{"epoch", "loss", "note"}
                                                           : std::vector<std::string>{}});
        log.write({{"epoch", 1}, {"loss", 0.1}, {"note", "a, \"quoted\"\nnote"}});
        log.write({{"epoch", 2}, {"loss", std::nan("")}});
    }
    for (const std::string& path : {csv, jsonl}) {
        std::vector<MetricRow> rows = read_metrics_log(path);
        REQUIRE(rows.size() == 2);
        REQUIRE(rows[0].size() == 3);
        CHECK(rows[0][0].first == "epoch");
        CHECK(rows[0][0].second.kind() == MetricValue::Kind::Integer);
        CHECK(rows[0][0].second.integer() == 1);
        CHECK(rows[0][1].second.real() == 0.1);
        CHECK(rows[0][2].second.text() == "a, \"quoted\"\nnote");
        REQUIRE(rows[1].size() == 2);  // the empty CSV cell is left out
        CHECK(std::isnan(rows[1][1].second.real()));
    }
    // A last line cut short by a kill is dropped; a bad line before it is an error.
    std::ofstream(jsonl, std::ios::app) << "{\"epoch\": 3, \"lo";
    CHECK(read_metrics_log(jsonl).size() == 2);
    std::ofstream(jsonl, std::ios::app) << "\n{\"epoch\": 4}\n";
    CHECK_THROWS_WITH(read_metrics_log(jsonl), Contains("line 3"));
    std::ofstream(csv, std::ios::app) << "1,2,3,4\n";
    CHECK_THROWS_WITH(read_metrics_log(csv), Contains("4 cells for 3 columns"));
    CHECK_THROWS_WITH(read_metrics_log((dir / "none.csv").string()), Contains("none.csv"));
    fs::remove_all(dir);
}
