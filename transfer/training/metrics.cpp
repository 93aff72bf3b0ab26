// ClassificationMetrics: counts on the host, one confusion matrix of int64.
#include "transfer/training/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/ops/creation.h"

namespace graft::transfer {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// a ranks above b in argmax order: NaN beats everything (torch.argmax).
bool ranks_above(float a, float b) {
    if (std::isnan(b)) return false;
    return std::isnan(a) || a > b;
}

std::string fit_width(const std::string& s, size_t width) {
    if (s.size() <= width) return s;
    return s.substr(0, width - 1) + "~";
}

std::string percent(double v) {
    if (std::isnan(v)) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * v);
    return buf;
}

}  // namespace

ClassificationMetrics::ClassificationMetrics(int64_t num_classes, std::vector<std::string> class_names, int64_t top_k)
    : num_classes_(num_classes), top_k_(top_k), names_(std::move(class_names)) {
    const char* op = "ClassificationMetrics";
    check(num_classes >= 1, op, "num_classes must be at least 1, got ", num_classes);
    check(num_classes <= kMaxClasses, op, "num_classes ", num_classes, " needs a dense ", num_classes, "x",
          num_classes, " confusion matrix (", double(num_classes) * double(num_classes) * 8 / 1e9,
          " GB); at most ", kMaxClasses, " classes are supported");
    check(names_.empty() || int64_t(names_.size()) == num_classes, op, "got ", names_.size(),
          " class names for ", num_classes, " classes");
    check(top_k >= 1 && top_k <= num_classes, op, "top_k must be in [1, ", num_classes, "], got ", top_k);
    if (names_.empty())
        for (int64_t c = 0; c < num_classes; ++c) names_.push_back(std::to_string(c));
    confusion_.assign(size_t(num_classes * num_classes), 0);
}

void ClassificationMetrics::reset() {
    std::fill(confusion_.begin(), confusion_.end(), 0);
    count_ = correct_ = top_k_correct_ = loss_count_ = 0;
    loss_sum_ = 0.0;
}

std::vector<int64_t> ClassificationMetrics::read_labels(const Tensor& labels, int64_t n, const char* op,
                                                        const char* what) const {
    check(labels.defined(), op, what, " are undefined");
    check(labels.dtype() == DType::Int64 || labels.dtype() == DType::Int32, op, what,
          " must be int64 (or int32) class indices, got ", describe(labels));
    check(labels.dim() == 1 && labels.size(0) == n, op, what, " must be [", n, "] to match the batch, got ",
          describe(labels));
    std::vector<int64_t> values = labels.to(Device::cpu()).to_vector<int64_t>();
    for (size_t i = 0; i < values.size(); ++i)
        check(values[i] >= 0 && values[i] < num_classes_, op, what, " value ", values[i], " at position ", i,
              " is outside [0, ", num_classes_, ")");
    return values;
}

void ClassificationMetrics::count_pair(int64_t truth, int64_t predicted) {
    ++confusion_[size_t(truth * num_classes_ + predicted)];
    ++count_;
    correct_ += truth == predicted;
}

void ClassificationMetrics::update(const Tensor& logits, const Tensor& labels, std::optional<double> batch_mean_loss) {
    const char* op = "ClassificationMetrics::update";
    check(logits.defined(), op, "logits are undefined");
    check(is_floating(logits.dtype()), op, "logits must be floating, got ", describe(logits));
    check(logits.dim() == 2 && logits.size(1) == num_classes_, op, "logits must be [N, ", num_classes_,
          "], got ", describe(logits));
    const int64_t n = logits.size(0), c = num_classes_;
    std::vector<int64_t> truth = read_labels(labels, n, op, "labels");
    std::vector<float> values = logits.detach().to(Device::cpu()).to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
        const float* row = values.data() + i * c;
        int64_t best = 0;
        for (int64_t j = 1; j < c; ++j)
            if (ranks_above(row[j], row[best])) best = j;
        count_pair(truth[size_t(i)], best);
        if (top_k_ > 1) {
            // Rank of the true class: how many classes score strictly above it.
            const float target = row[truth[size_t(i)]];
            int64_t above = 0;
            for (int64_t j = 0; j < c; ++j) above += ranks_above(row[j], target);
            top_k_correct_ += above < top_k_;
        }
    }
    if (batch_mean_loss) add_loss(*batch_mean_loss, n);
}

void ClassificationMetrics::update_predictions(const Tensor& predicted, const Tensor& labels) {
    const char* op = "ClassificationMetrics::update_predictions";
    check(predicted.defined() && predicted.dim() == 1, op, "predicted must be [N], got ",
          predicted.defined() ? std::string(describe(predicted)) : "undefined");
    const int64_t n = predicted.size(0);
    std::vector<int64_t> truth = read_labels(labels, n, op, "labels");
    std::vector<int64_t> pred = read_labels(predicted, n, op, "predictions");
    for (int64_t i = 0; i < n; ++i) count_pair(truth[size_t(i)], pred[size_t(i)]);
    // Without scores only the top-1 prediction is known; it counts for top-k too.
    for (int64_t i = 0; i < n; ++i) top_k_correct_ += truth[size_t(i)] == pred[size_t(i)];
}

void ClassificationMetrics::add_loss(double batch_mean_loss, int64_t count) {
    check(count >= 0, "ClassificationMetrics::add_loss", "count must be non-negative, got ", count);
    loss_sum_ += batch_mean_loss * double(count);
    loss_count_ += count;
}

double ClassificationMetrics::accuracy() const { return count_ ? double(correct_) / double(count_) : kNaN; }

double ClassificationMetrics::top_k_accuracy() const {
    return (top_k_ > 1 && count_) ? double(top_k_correct_) / double(count_) : kNaN;
}

double ClassificationMetrics::mean_loss() const { return loss_count_ ? loss_sum_ / double(loss_count_) : kNaN; }

std::vector<double> ClassificationMetrics::per_class_accuracy() const {
    std::vector<double> out(size_t(num_classes_), kNaN);
    for (int64_t t = 0; t < num_classes_; ++t) {
        int64_t total = 0;
        for (int64_t p = 0; p < num_classes_; ++p) total += confusion(t, p);
        if (total) out[size_t(t)] = double(confusion(t, t)) / double(total);
    }
    return out;
}

std::vector<double> ClassificationMetrics::precision() const {
    std::vector<double> out(size_t(num_classes_), kNaN);
    for (int64_t p = 0; p < num_classes_; ++p) {
        int64_t total = 0;
        for (int64_t t = 0; t < num_classes_; ++t) total += confusion(t, p);
        if (total) out[size_t(p)] = double(confusion(p, p)) / double(total);
    }
    return out;
}

std::vector<double> ClassificationMetrics::f1() const {
    std::vector<double> out(size_t(num_classes_), kNaN);
    for (int64_t c = 0; c < num_classes_; ++c) {
        int64_t in_truth = 0, in_predicted = 0;  // TP + FN, TP + FP
        for (int64_t o = 0; o < num_classes_; ++o) {
            in_truth += confusion(c, o);
            in_predicted += confusion(o, c);
        }
        if (in_truth + in_predicted) out[size_t(c)] = 2.0 * double(confusion(c, c)) / double(in_truth + in_predicted);
    }
    return out;
}

double ClassificationMetrics::macro_f1() const {
    double sum = 0.0;
    int64_t defined = 0;
    for (double f : f1()) {
        if (std::isnan(f)) continue;
        sum += f;
        ++defined;
    }
    return defined ? sum / double(defined) : kNaN;
}

int64_t ClassificationMetrics::confusion(int64_t truth, int64_t predicted) const {
    check(truth >= 0 && truth < num_classes_ && predicted >= 0 && predicted < num_classes_,
          "ClassificationMetrics::confusion", "(", truth, ", ", predicted, ") is outside [0, ", num_classes_, ")");
    return confusion_[size_t(truth * num_classes_ + predicted)];
}

Tensor ClassificationMetrics::confusion_matrix() const {
    return from_vector(confusion_, {num_classes_, num_classes_});
}

std::string ClassificationMetrics::confusion_table() const {
    auto pad_left = [](const std::string& s, size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; };
    auto pad_right = [](const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); };
    // Columns are as wide as the largest count; when a class name does not fit
    // a column, columns are headed by class index and rows carry "index name".
    int64_t largest = 0;
    for (int64_t v : confusion_) largest = std::max(largest, v);
    size_t col = std::max<size_t>(std::to_string(largest).size(), 3) + 2;
    bool names_fit = true;
    for (const auto& n : names_) names_fit = names_fit && n.size() + 1 <= std::max<size_t>(col, 8);
    if (names_fit)
        for (const auto& n : names_) col = std::max(col, n.size() + 1);
    else
        col = std::max(col, std::to_string(num_classes_ - 1).size() + 2);
    std::vector<std::string> row_names;
    for (int64_t t = 0; t < num_classes_; ++t)
        row_names.push_back(names_fit ? names_[size_t(t)] : std::to_string(t) + " " + fit_width(names_[size_t(t)], 20));
    size_t name_width = std::string("true \\ pred").size();
    for (const auto& n : row_names) name_width = std::max(name_width, n.size());

    std::string out = pad_right("true \\ pred", name_width);
    for (int64_t p = 0; p < num_classes_; ++p) out += pad_left(names_fit ? names_[size_t(p)] : std::to_string(p), col);
    out += "   accuracy\n";
    const std::vector<double> recall = per_class_accuracy();
    for (int64_t t = 0; t < num_classes_; ++t) {
        out += pad_right(row_names[size_t(t)], name_width);
        for (int64_t p = 0; p < num_classes_; ++p) out += pad_left(std::to_string(confusion(t, p)), col);
        out += pad_left(percent(recall[size_t(t)]), 11) + "\n";
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "overall %s of %lld\n", percent(accuracy()).c_str(), (long long)count_);
    return out + buf;
}

std::string ClassificationMetrics::per_class_table() const {
    size_t name_width = 5;
    for (const auto& n : names_) name_width = std::max(name_width, std::min<size_t>(n.size(), 24));
    std::string out;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%-*s %9s %9s %9s\n", int(name_width), "class", "samples", "correct", "accuracy");
    out += buf;
    const std::vector<double> acc = per_class_accuracy();
    for (int64_t t = 0; t < num_classes_; ++t) {
        int64_t total = 0;
        for (int64_t p = 0; p < num_classes_; ++p) total += confusion(t, p);
        std::snprintf(buf, sizeof buf, "%-*s %9lld %9lld %9s\n", int(name_width),
                      fit_width(names_[size_t(t)], name_width).c_str(), (long long)total,
                      (long long)confusion(t, t), percent(acc[size_t(t)]).c_str());
        out += buf;
    }
    return out;
}

std::string ClassificationMetrics::summary() const {
    std::string out;
    char buf[96];
    if (loss_count_) {
        std::snprintf(buf, sizeof buf, "loss %.4f  ", mean_loss());
        out += buf;
    }
    std::snprintf(buf, sizeof buf, "acc %.2f%%", count_ ? 100.0 * accuracy() : 0.0);
    out += count_ ? buf : "acc -";
    if (top_k_ > 1 && count_) {
        std::snprintf(buf, sizeof buf, "  top-%lld %.2f%%", (long long)top_k_, 100.0 * top_k_accuracy());
        out += buf;
    }
    std::snprintf(buf, sizeof buf, "  (%lld samples)", (long long)count_);
    out += buf;
    return out;
}

}  // namespace graft::transfer
