// Graft: one include for the whole public API.
//
//   #include <graft/graft.h>
//   using namespace graft;
//   Tensor w = randn({784, 10}).requires_grad_();
//   Tensor loss = log_softmax(matmul(x, w), 1).mean();
//   loss.backward();
#pragma once

#include "core/autograd/grad_mode.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/ops/activation.h"
#include "core/ops/binary.h"
#include "core/ops/conv.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/indexing.h"
#include "core/ops/join.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/nn_ops.h"
#include "core/ops/norm.h"
#include "core/ops/pool.h"
#include "core/ops/random.h"
#include "core/ops/reduction.h"
#include "core/ops/softmax.h"
#include "core/ops/unary.h"
#include "core/ops/views.h"
#include "core/tensor.h"
#include "kernels/parallel.h"
