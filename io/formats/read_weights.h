// Any weights file Graft reads, by its content rather than its name:
//
//   NamedTensors w = io::read_weights("model.safetensors");   // or .pth, .pt, .bin, index.json
//
//   safetensors          8-byte header length, then '{'          read_safetensors
//   sharded safetensors  a *.index.json with a "weight_map"       read_safetensors_sharded
//   PyTorch              zip, legacy stream, tar or plain pickle  read_pytorch
//   ONNX                 *.onnx, or a ModelProto's first fields   read_onnx (initializers)
// Anything else (TorchScript, text) is a graft::Error naming the file and
// what its first bytes look like. NamedTensors::metadata["format"] says which
// reader ran ("safetensors", "safetensors-sharded", "pytorch-zip", ...).
#pragma once

#include <string>

#include "core/named_tensors.h"

namespace graft::io {

struct WeightsReadOptions {
    bool to_float32 = false;  // PyTorch and ONNX files: convert float16/bfloat16/float64 to float32
    bool copy = false;        // own the memory instead of viewing a memory map
    std::string key;          // PyTorch checkpoints: the dict holding the state_dict ("" = automatic)
};

NamedTensors read_weights(const std::string& path, const WeightsReadOptions& options = {});

// The format read_weights would pick for `path` ("safetensors", "safetensors-sharded",
// "pytorch", "onnx", or "" when it recognises none); reads only the first bytes.
std::string detect_weights_format(const std::string& path);

}  // namespace graft::io
