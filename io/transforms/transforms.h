// Every image transform (see transform.h for the two image kinds and the
// per-sample generators). A typical ImageNet training pipeline:
//
//   using namespace graft::io::transforms;
//   TransformPtr train = compose({make<RandomResizedCrop>(224), make<RandomHorizontalFlip>(),
//                                 make<ToTensor>(), make<Normalize>(kImageNetMean, kImageNetStd)});
//   Generator rng = sample_generator(seed, index);
//   Tensor x = (*train)(read_image(path, ImageChannels::rgb), rng);   // float32 [3, 224, 224]
#pragma once

#include "io/transforms/color.h"
#include "io/transforms/crop.h"
#include "io/transforms/flip.h"
#include "io/transforms/resize.h"
#include "io/transforms/to_tensor.h"
#include "io/transforms/transform.h"
