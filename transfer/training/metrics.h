// Classification metrics accumulated over batches: accuracy, per-class accuracy
// (recall), a confusion matrix that prints as a table with class names, top-k
// accuracy, and the sample-weighted mean loss.
//
//   transfer::ClassificationMetrics metrics(10, class_names);   // names optional
//   for (auto& [x, y] : val_batches) {
//       Tensor logits = model(x);                               // [N, C]
//       Tensor loss = cross_entropy(logits, y);                 // mean over the batch
//       metrics.update(logits, y, loss.item<double>());         // y: int64 [N]
//   }
//   std::printf("val loss %.4f acc %.2f%%\n", metrics.mean_loss(), 100 * metrics.accuracy());
//   std::puts(metrics.confusion_table().c_str());
//   metrics.reset();                                            // next epoch
//
// Predictions are the argmax over classes (the first maximum on ties, NaN
// counting as the largest value, as torch.argmax does). Logits may be any
// floating dtype on any device; they are copied to the host once per batch.
// Labels must be int64 (or int32) in [0, C): a label out of range throws
// graft::Error naming its value and position instead of corrupting the counts.
//
// Loss is averaged per sample: update(..., batch_mean_loss) counts it N times,
// so the mean is right when the last batch is smaller.
//
// The confusion matrix is dense (C x C int64), so C is capped at kMaxClasses
// (16384: 2 GB); a 21k-class label space needs a sparse tally this class does
// not have.
//
// For imbalanced sets, f1() gives the per-class F1 (f1()[1] is the binary F1
// of the positive class) and macro_f1() their unweighted mean.
//
// Leaves out: multi-label metrics, precision/recall/F1 tables, ignore_index.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace graft::transfer {

class ClassificationMetrics {
public:
    static constexpr int64_t kMaxClasses = 16384;

    // `class_names` empty means "0", "1", ...; otherwise it must have num_classes
    // entries. `top_k` > 1 also tracks top-k accuracy (k <= num_classes).
    explicit ClassificationMetrics(int64_t num_classes, std::vector<std::string> class_names = {},
                                   int64_t top_k = 1);

    // logits [N, C] (C == num_classes), labels [N]. batch_mean_loss, when given,
    // is the batch's mean loss and is weighted by N.
    void update(const Tensor& logits, const Tensor& labels, std::optional<double> batch_mean_loss = {});
    // Already decided predictions: predicted and labels both integer [N].
    void update_predictions(const Tensor& predicted, const Tensor& labels);
    // A loss without predictions (e.g. a training step): mean over `count` samples.
    void add_loss(double batch_mean_loss, int64_t count);
    void reset();

    int64_t num_classes() const { return num_classes_; }
    const std::vector<std::string>& class_names() const { return names_; }
    int64_t count() const { return count_; }           // samples with predictions
    int64_t correct() const { return correct_; }
    double accuracy() const;                           // NaN before any update
    double top_k_accuracy() const;                     // NaN unless top_k > 1 and updated
    int64_t top_k() const { return top_k_; }
    double mean_loss() const;                          // NaN when no loss was given
    // Fraction of samples of class c predicted as c (recall); NaN for a class
    // that has no samples yet.
    std::vector<double> per_class_accuracy() const;
    // Fraction of predictions of class c that were right; NaN if never predicted.
    std::vector<double> precision() const;
    // F1 of class c, 2 TP / (2 TP + FP + FN), the harmonic mean of precision and
    // recall written so that a class never predicted (or never right) scores 0,
    // as sklearn.metrics.f1_score with zero_division=0; NaN only for a class that
    // is neither in the labels nor in the predictions (no TP, FP or FN).
    std::vector<double> f1() const;
    // The mean of f1() over the classes where it is defined (sklearn's
    // average="macro" over the labels present); NaN before any update.
    double macro_f1() const;
    // Number of samples with true class `truth` predicted as `predicted`.
    int64_t confusion(int64_t truth, int64_t predicted) const;
    // int64 [C, C]: rows are true classes, columns predicted classes (as
    // sklearn.metrics.confusion_matrix).
    Tensor confusion_matrix() const;

    // Rows "true \ predicted" with class names, counts, and a per-class
    // accuracy column; long names are cut to keep the table narrow.
    std::string confusion_table() const;
    // One line per class: name, samples, correct, accuracy.
    std::string per_class_table() const;
    // "loss 0.3412  acc 87.31%  (10000 samples)" (loss and top-k only when known).
    std::string summary() const;

private:
    void count_pair(int64_t truth, int64_t predicted);
    std::vector<int64_t> read_labels(const Tensor& labels, int64_t n, const char* op, const char* what) const;

    int64_t num_classes_;
    int64_t top_k_;
    std::vector<std::string> names_;
    std::vector<int64_t> confusion_;  // [truth * C + predicted]
    int64_t count_ = 0, correct_ = 0, top_k_correct_ = 0;
    double loss_sum_ = 0.0;
    int64_t loss_count_ = 0;
};

}  // namespace graft::transfer
