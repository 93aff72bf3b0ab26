// ONNX: the weights (initializers) of a model.onnx file, as NamedTensors.
//
//   NamedTensors w = io::read_onnx("model.onnx");                // names as in the graph
//   NamedTensors f = io::read_onnx("model.onnx", {.convert_to_float32 = true});
//
// What is read: graph.initializer, in file order, under their ONNX names (an
// exporter that kept PyTorch's names gives "conv1.weight"; old exporters give
// "1", "2", ...). Constant nodes are not weights and are left out unless
// include_constants is set; then each Constant node's value (attribute
// value / value_float(s) / value_int(s)) is added under the node's output name
// after the initializers. Initializers inside subgraphs (If/Loop bodies) and
// sparse_initializer are not read: a model with sparse initializers is an Error
// rather than a silent partial load.
//
// metadata: "format" = "onnx", "ir_version", "opset" (the default ai.onnx
// domain's version; "" if the model imports none), "producer_name",
// "producer_version", and "opset.<domain>" for other imported domains.
//
// Data: raw_data (little-endian) and the typed fields (float_data, int32_data
// for INT32/UINT8/BOOL/FLOAT16/BFLOAT16 bit patterns, int64_data, double_data)
// are both read; exactly one source per tensor, its size checked against the
// shape before anything is allocated. ONNX types Graft has no dtype for (INT8,
// INT16, UINT16, UINT32, UINT64, STRING, COMPLEX*, FLOAT8*) are refused by name.
//
// External data (data_location EXTERNAL; keys "location", "offset", "length"):
// the location is relative to the model's folder. Absolute paths, ".."
// components, NUL bytes and symlinks that resolve outside the folder are
// refused with an Error naming the tensor and the path; offset + length must lie
// inside the file (and length, or the rest of the file, must equal the shape's
// byte count). The optional "checksum" key is not verified.
//
// Memory: tensors from raw_data view the parsed message's bytes (no copy after
// protobuf's own); the message, holding every initializer, is freed when the
// last such tensor dies. Typed-field and external tensors own their memory.
//
// The parser is Debian's libonnx_proto (protobuf 3.21); a build without it
// (GRAFT_HAVE_ONNX undefined: libonnx-dev was not found at configure time)
// throws "built without ONNX support". Files over 2 GiB are refused (protobuf's
// message limit; such models keep their weights as external data).
// Every error is a graft::Error naming the file, and the tensor when there is one.
#pragma once

#include <string>

#include "core/named_tensors.h"

namespace graft::io {

struct OnnxReadOptions {
    bool convert_to_float32 = false;  // float16 / bfloat16 / float64 tensors become float32
    bool include_constants = false;   // also the values of Constant nodes (see above)
};

NamedTensors read_onnx(const std::string& path, const OnnxReadOptions& options = {});

// True when this build can read ONNX (it was configured with libonnx-dev).
bool onnx_supported();

}  // namespace graft::io
