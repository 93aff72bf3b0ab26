// The training-loop helpers in one include:
//
//   metrics.h          ClassificationMetrics: accuracy, top-k, per-class accuracy,
//                      precision, confusion matrix (and its table), mean loss
//   progress.h         ProgressBar: epoch/step, running loss, samples/s, ETA;
//                      one redrawn line on a terminal, plain lines elsewhere
//   metrics_log.h      MetricsLog: one row per step or epoch to CSV or JSONL,
//                      flushed per row; read_metrics_log reads it back
//   chart.h            PNG charts: loss and accuracy curves (TrainingHistory),
//                      any panels of series, log-x for LR finders
//   confusion_chart.h  the confusion matrix as a PNG heat map
//   fit.h              fit(): the loop that uses all of the above, with
//                      checkpoints and resume; evaluate()
//
// Lower-level pieces: raster.h (anti-aliased drawing), chart_axis.h (ticks),
// io/image/image_write.h (PNG/JPEG files).
#pragma once

#include "transfer/training/chart.h"
#include "transfer/training/confusion_chart.h"
#include "transfer/training/fit.h"
#include "transfer/training/metrics.h"
#include "transfer/training/metrics_log.h"
#include "transfer/training/progress.h"
