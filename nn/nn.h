// nn: one include for modules, init and every layer.
//
//   #include "nn/nn.h"
//   auto mlp = nn::sequential({std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(),
//                              std::make_shared<nn::Linear>(128, 10)});
//
// Optimizers and schedules live in nn/optim/ and are included on their own.
#pragma once

#include "nn/init.h"
#include "nn/layers/activation.h"
#include "nn/layers/attention.h"
#include "nn/layers/container.h"
#include "nn/layers/conv.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/linear.h"
#include "nn/layers/loss.h"
#include "nn/layers/norm.h"
#include "nn/layers/pooling.h"
#include "nn/module.h"
