// The confusion matrix as a picture: a heat map with true classes down the
// side and predicted classes along the top, each cell shaded by the fraction
// of its row (so a class with few samples is as readable as a large one) and
// labelled with its count when the cells are big enough; per-class accuracy
// at the right of each row, overall accuracy in the title.
//
//   transfer::ClassificationMetrics val(10, names);
//   ... val.update(logits, labels) over the validation set ...
//   transfer::write_confusion_png("runs/a/confusion.png", val);
//
// Cells are 64 pixels for a few classes and shrink towards 12 as classes grow
// (counts are left out below 30 pixels); column names are written vertically.
// Class names longer than 24 characters are cut.
#pragma once

#include <string>

#include "core/tensor.h"
#include "transfer/training/metrics.h"

namespace graft::transfer {

struct ConfusionChartOptions {
    std::string title = "Confusion matrix";  // "(acc 87.3%, 10000 samples)" is appended
    int cell = 0;                             // cell size in pixels; 0: from the class count
    bool counts = true;                       // write counts in cells that are big enough
};

// uint8 [H, W, 3].
Tensor render_confusion_matrix(const ClassificationMetrics& metrics, const ConfusionChartOptions& options = {});
void write_confusion_png(const std::string& path, const ClassificationMetrics& metrics,
                         const ConfusionChartOptions& options = {});

}  // namespace graft::transfer
