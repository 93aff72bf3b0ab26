// trainable_summary (declared in freeze.h): a terminal table of what will learn.
//
//   ResNet, mode train: 2,565,642 of 11,181,642 parameters trainable (22.9%)
//   module   type         trainable     frozen  state      BatchNorm
//   conv1    Conv2d               0      9,408  frozen     -
//   bn1      BatchNorm2d          0        128  frozen     eval (pinned)
//   ...
//   layer4   Sequential   8,393,728          0  trainable  train
//   fc       Linear           5,130          0  trainable  -
//   total                 2,565,642  8,616,000
#include <algorithm>
#include <functional>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "nn/layers/norm.h"
#include "transfer/freeze.h"

namespace graft::transfer {

namespace {

struct Row {
    std::string name, type;
    int64_t trainable = 0, frozen = 0;
    int batchnorms = 0, bn_training = 0, bn_pinned = 0;
};

// "11,181,642"
std::string grouped(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

void count_params(Row& row, const std::vector<Tensor>& params) {
    for (const Tensor& p : params) (p.requires_grad() ? row.trainable : row.frozen) += p.numel();
}

void count_batchnorms(Row& row, nn::Module& m) {
    if (dynamic_cast<nn::BatchNormBase*>(&m)) {
        ++row.batchnorms;
        row.bn_training += m.is_training() ? 1 : 0;
        row.bn_pinned += m.pinned_mode().has_value() ? 1 : 0;
    }
    for (auto& [name, child] : m.named_children()) count_batchnorms(row, *child);
}

std::string state_text(const Row& r) {
    if (r.trainable + r.frozen == 0) return "-";
    return r.frozen == 0 ? "trainable" : r.trainable == 0 ? "frozen" : "partly";
}

std::string batchnorm_text(const Row& r) {
    if (r.batchnorms == 0) return "-";
    const int eval = r.batchnorms - r.bn_training;
    if (eval > 0 && r.bn_training > 0) return cat_str("mixed: ", r.bn_training, " train, ", eval, " eval");
    const std::string mode = eval > 0 ? "eval" : "train";
    if (r.bn_pinned == 0) return mode;
    if (r.bn_pinned == r.batchnorms) return mode + " (pinned)";
    return cat_str(mode, " (", r.bn_pinned, " of ", r.batchnorms, " pinned)");
}

// Rows for the modules at `depth` below `m` (which sits at `level`), or for m
// itself when it has no children or is deep enough. A module's own parameters,
// when it also has children, get a row "<name> (own)".
void collect_rows(nn::Module& m, const std::string& name, int level, int depth, std::vector<Row>& rows) {
    const auto children = m.named_children();
    if (level >= depth || children.empty()) {
        Row row{name.empty() ? "(model)" : name, m.type_name()};
        count_params(row, m.parameters());
        count_batchnorms(row, m);
        rows.push_back(row);
        return;
    }
    const std::vector<Tensor> own = m.parameters(/*recurse=*/false);
    if (!own.empty()) {
        Row row{name.empty() ? "(model, own)" : name + " (own)", m.type_name()};
        count_params(row, own);
        rows.push_back(row);
    }
    for (auto& [child_name, child] : children)
        collect_rows(*child, name.empty() ? child_name : name + "." + child_name, level + 1, depth, rows);
}

}  // namespace

std::string trainable_summary(nn::Module& model, int depth) {
    check(depth >= 1, "trainable_summary", "depth must be at least 1 (the top-level modules), got ", depth);
    std::vector<Row> rows;
    collect_rows(model, "", 0, depth, rows);
    Row total{"total", ""};
    count_params(total, model.parameters());

    const std::vector<std::string> header = {"module", "type", "trainable", "frozen", "state", "BatchNorm"};
    std::vector<std::vector<std::string>> cells;
    for (const Row& r : rows)
        cells.push_back({r.name, r.type, grouped(r.trainable), grouped(r.frozen), state_text(r), batchnorm_text(r)});
    cells.push_back({total.name, "", grouped(total.trainable), grouped(total.frozen), "", ""});
    std::vector<size_t> width(header.size());
    for (size_t c = 0; c < header.size(); ++c) {
        width[c] = header[c].size();
        for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
    }
    // Numbers right-aligned, text left-aligned; no trailing blanks.
    auto format_line = [&](const std::vector<std::string>& line) {
        std::string out;
        for (size_t c = 0; c < line.size(); ++c) {
            const std::string pad(width[c] - line[c].size(), ' ');
            const bool numeric = c == 2 || c == 3;
            out += (c ? "  " : "") + (numeric ? pad + line[c] : line[c] + pad);
        }
        out.erase(out.find_last_not_of(' ') + 1);
        return out + "\n";
    };

    const int64_t all = total.trainable + total.frozen;
    std::ostringstream os;
    os << model.type_name() << ", mode " << (model.is_training() ? "train" : "eval") << ": " << grouped(total.trainable)
       << " of " << grouped(all) << " parameters trainable";
    if (all > 0) os << " (" << std::fixed << std::setprecision(1) << 100.0 * double(total.trainable) / double(all) << "%)";
    os << "\n" << format_line(header);
    for (const auto& line : cells) os << format_line(line);
    return os.str();
}

}  // namespace graft::transfer
