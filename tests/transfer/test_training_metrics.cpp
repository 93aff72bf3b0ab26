// transfer/training/metrics: accuracy, per-class accuracy, precision, top-k,
// confusion matrix and mean loss against counts worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "graft.h"
#include "transfer/training/metrics.h"

using namespace graft;
using transfer::ClassificationMetrics;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// Five rows over three classes, then one row with a NaN logit:
//   [2 1 0] y0 -> 0 ok     [0 3 1] y1 -> 1 ok     [1 0 5] y1 -> 2 wrong
//   [1 1 0] y1 -> 0 wrong (tie: first maximum)    [0 0 9] y2 -> 2 ok
//   [nan 0 0] y0 -> 0 ok (NaN ranks highest, as torch.argmax)
void feed(ClassificationMetrics& m) {
    Tensor logits = from_vector<float>({2, 1, 0, 0, 3, 1, 1, 0, 5, 1, 1, 0, 0, 0, 9}, {5, 3});
    m.update(logits, from_vector<int64_t>({0, 1, 1, 1, 2}), 1.0);
    m.update(from_vector<float>({std::nanf(""), 0, 0}, {1, 3}), from_vector<int64_t>({0}), 4.0);
}

}  // namespace

TEST_CASE("ClassificationMetrics counts by hand", "[transfer][metrics]") {
    ClassificationMetrics m(3, {"cat", "dog", "bird"}, 2);
    feed(m);
    CHECK(m.count() == 6);
    CHECK(m.correct() == 4);
    CHECK(m.accuracy() == Approx(4.0 / 6));
    CHECK(m.mean_loss() == Approx(1.5));  // (1.0 * 5 + 4.0 * 1) / 6
    CHECK(m.top_k_accuracy() == Approx(5.0 / 6));  // only [1 0 5] y1 has two classes above it
    std::vector<double> recall = m.per_class_accuracy();
    CHECK(recall[0] == Approx(1.0));
    CHECK(recall[1] == Approx(1.0 / 3));
    CHECK(recall[2] == Approx(1.0));
    std::vector<double> precision = m.precision();
    CHECK(precision[0] == Approx(2.0 / 3));
    CHECK(precision[1] == Approx(1.0));
    CHECK(precision[2] == Approx(0.5));
    CHECK(m.confusion_matrix().to_vector<int64_t>() == std::vector<int64_t>{2, 0, 0, 1, 1, 1, 0, 0, 1});
    CHECK(m.confusion(1, 2) == 1);
    // sklearn.metrics.f1_score(y_true, y_pred, average=None / "macro") on the same six rows
    std::vector<double> f1 = m.f1();
    CHECK(f1[0] == Approx(0.8));
    CHECK(f1[1] == Approx(0.5));
    CHECK(f1[2] == Approx(2.0 / 3));
    CHECK(m.macro_f1() == Approx(0.6555555555555556));
}

TEST_CASE("ClassificationMetrics F1 on an imbalanced binary set", "[transfer][metrics]") {
    ClassificationMetrics m(3);
    CHECK(std::isnan(m.macro_f1()));
    // Everything predicted negative: the positive class's F1 is 0, not NaN (sklearn's
    // zero_division=0), though its precision is undefined. Class 2 never occurs.
    m.update_predictions(from_vector<int64_t>({0, 0, 0, 0, 0}), from_vector<int64_t>({1, 0, 0, 1, 0}));
    std::vector<double> f1 = m.f1();
    CHECK(f1[0] == Approx(0.75));
    CHECK(f1[1] == 0.0);
    CHECK(std::isnan(f1[2]));
    CHECK(std::isnan(m.precision()[1]));
    CHECK(m.macro_f1() == Approx(0.375));
    // Then one true and one false positive (counts accumulate): TP 1, FP 1, FN 2,
    // so P = 1/2, R = 1/3 and F1 = 2 / (2 + 1 + 2) = 0.4.
    m.update_predictions(from_vector<int64_t>({1, 1}), from_vector<int64_t>({1, 0}));
    CHECK(m.f1()[1] == Approx(0.4));
}

TEST_CASE("ClassificationMetrics tables and summary", "[transfer][metrics]") {
    ClassificationMetrics m(3, {"cat", "dog", "bird"});
    feed(m);
    // Short names head the columns.
    CHECK(m.confusion_table() ==
          "true \\ pred  cat  dog bird   accuracy\n"
          "cat            2    0    0     100.0%\n"
          "dog            1    1    1      33.3%\n"
          "bird           0    0    1     100.0%\n"
          "overall 66.7% of 6\n");
    // A long name: columns by index, rows "index name" (cut to 20 characters).
    ClassificationMetrics l(3, {"cat", "dog", "a-very-long-class-name-indeed"});
    feed(l);
    const std::string table = l.confusion_table();
    CHECK_THAT(table, StartsWith("true \\ pred               0    1    2   accuracy\n"));
    CHECK_THAT(table, Contains("\n1 dog                     1    1    1      33.3%\n"));
    CHECK_THAT(table, Contains("\n2 a-very-long-class-n~"));
    CHECK_THAT(m.per_class_table(), Contains("100.0%"));
    CHECK(m.summary() == "loss 1.5000  acc 66.67%  (6 samples)");
    m.reset();
    CHECK(m.count() == 0);
    CHECK(std::isnan(m.accuracy()));
    CHECK(std::isnan(m.mean_loss()));
    CHECK(std::isnan(m.per_class_accuracy()[0]));
    CHECK(m.summary() == "acc -  (0 samples)");
}

TEST_CASE("ClassificationMetrics from predictions, int32 labels, losses alone", "[transfer][metrics]") {
    ClassificationMetrics m(4);
    m.update_predictions(from_vector<int64_t>({0, 1, 3, 3}), from_vector<int32_t>({0, 2, 3, 3}));
    CHECK(m.accuracy() == Approx(0.75));
    CHECK(m.class_names()[3] == "3");
    m.add_loss(2.0, 3);
    m.add_loss(0.0, 1);
    CHECK(m.mean_loss() == Approx(1.5));
    // Float64 logits and logits that require grad are fine.
    ClassificationMetrics d(2);
    Tensor logits = from_vector<double>({0.1, 0.2, 0.3, -0.3}, {2, 2}).requires_grad_();
    d.update(logits, from_vector<int64_t>({1, 0}));
    CHECK(d.accuracy() == 1.0);
}

TEST_CASE("ClassificationMetrics refuses bad input with its shape or value", "[transfer][metrics]") {
    ClassificationMetrics m(3);
    CHECK_THROWS_WITH(m.update(zeros({2, 4}), from_vector<int64_t>({0, 1})), Contains("[N, 3]") && Contains("[2, 4]"));
    CHECK_THROWS_WITH(m.update(zeros({2, 3}), from_vector<int64_t>({0, 3})),
                      Contains("label") && Contains("3 at position 1"));
    CHECK_THROWS_WITH(m.update(zeros({2, 3}), from_vector<int64_t>({0, -1})), Contains("-1"));
    CHECK_THROWS_WITH(m.update(zeros({2, 3}), from_vector<float>({0, 1})), Contains("int64"));
    CHECK_THROWS_WITH(m.update(zeros({2, 3}), from_vector<int64_t>({0, 1, 2})), Contains("[2]"));
    CHECK_THROWS_WITH(m.update_predictions(from_vector<int64_t>({5}), from_vector<int64_t>({0})),
                      Contains("predictions"));
    CHECK(m.count() == 0);  // nothing half-counted
    CHECK_THROWS_WITH(ClassificationMetrics(3, {"a", "b"}), Contains("2 class names"));
    CHECK_THROWS(ClassificationMetrics(0));
    CHECK_THROWS_WITH(ClassificationMetrics(21843), Contains("21843x21843") && Contains("16384"));
    CHECK_THROWS(ClassificationMetrics(3, {}, 4));
}
