// Fine-tuning data: a training set and an evaluation set of images, prepared
// the way a pretrained model expects them (its nn::models::Preprocessing), from
// a name the command line can carry:
//
//   auto data = transfer::load_finetune_data("fashion-mnist", pre, {.shots = 100});
//   // data.train: 100 images per class from the 60,000 training images
//   // data.eval:  the 10,000 test images; items are float32 [3, crop, crop]
//
// Sources:
//   "fashion-mnist" or "fashion-mnist:DIR"   Debian's Fashion-MNIST (io/datasets/
//       fashion_mnist.h): train = the training split, eval = the full test split.
//       The 28x28 grey images are resized (bilinear, antialiased, as torchvision)
//       straight to crop x crop and copied into three channels, so an ImageNet
//       model sees a grey RGB picture.
//   DIR                                       an ImageFolder tree. DIR/train and
//       DIR/val (or DIR/test) when present; otherwise DIR is split, eval_fraction
//       of each class held out (seeded). Images get resize (short side) + centre
//       crop; grey images are copied into three channels, RGBA loses alpha.
// shots > 0 keeps that many training images per class (io::few_shot, seeded),
// the usual few-labels transfer setting; eval is never reduced.
//
// Augmentation is left out on purpose: the items are a deterministic function of
// the file, which is what makes a FeatureCache exact (transfer/feature_cache.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/datasets/dataset.h"
#include "nn/models/preprocessing.h"

namespace graft::transfer {

struct FinetuneDataOptions {
    int64_t shots = 0;             // > 0: images per class kept for training
    uint64_t seed = 0;             // few-shot choice and the split of a single folder
    double eval_fraction = 0.2;    // a single folder: share of each class held out
    int64_t max_eval = 0;          // > 0: evaluate on the first max_eval items only (quick runs)
};

struct FinetuneData {
    io::DatasetPtr train, eval;
    std::vector<std::string> class_names;
    std::string description;  // "fashion-mnist: 1000 train (100/class), 10000 test, 96x96 RGB"
    // What an item went through, for cache keys and checkpoints
    // ("fashion-mnist grey->rgb resize 96 mean 0.498,... std ...").
    std::string preprocessing;
};

FinetuneData load_finetune_data(const std::string& source, const nn::models::Preprocessing& preprocessing,
                                const FinetuneDataOptions& options = {});

// The per-item transform used above for uint8 [H, W] / [H, W, C] images:
// resize + centre crop (or a direct resize when `direct` is set, as for 28x28
// Fashion-MNIST), then [3, crop, crop] float32 normalised.
io::SampleTransform image_transform(const nn::models::Preprocessing& preprocessing, bool direct = false);

}  // namespace graft::transfer
