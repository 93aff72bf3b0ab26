// Internal to the ONNX reader (onnx.h): one onnx::TensorProto turned into a
// Tensor, with every size check done before the allocation, and the external
// data rules (a location inside the model's folder). Only compiled with
// libonnx-dev (GRAFT_HAVE_ONNX); not installed as API.
#pragma once

#if defined(GRAFT_HAVE_ONNX)

#ifndef ONNX_ML
#define ONNX_ML 1  // Debian ships only the -ml generated header (onnx-ml.pb.h)
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include <memory>
#include <string>

#include "core/tensor.h"

namespace graft::io::onnx_detail {

struct TensorContext {
    std::string where;      // "read_onnx: <path>", the start of every message
    std::string model_dir;  // the folder external data locations are relative to
    // The parsed model, when set: raw_data tensors then view the protobuf's own
    // bytes (kept alive by each tensor) instead of copying them.
    std::shared_ptr<const void> owner;
};

// The ONNX DataType's name ("FLOAT", "INT8", ...), or "data_type N" for an unknown value.
std::string onnx_type_name(int data_type);

// `label` names the tensor in messages ("initializer 'fc.weight'", "Constant node 'c' value").
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& label, const TensorContext& context);

}  // namespace graft::io::onnx_detail

#endif  // GRAFT_HAVE_ONNX
