// PyTorch torch.save files (.pth, .pt, .bin) read without Python and without
// running any of the code a pickle can name.
//
//   NamedTensors sd = io::read_pytorch("resnet18-f37072fd.pth");          // memory-mapped views
//   NamedTensors sd = io::read_pytorch("ckpt.pt", {.key = "model", .to_float32 = true});
//
// Formats (picked by the first bytes, FORMATS.md section 1):
//   zip (torch >= 1.6): "<archive>/data.pkl" plus one stored record
//     "<archive>/data/<key>" per storage; torch 2.x's extra records (byteorder,
//     .format_version, .data/serialization_id, ...) are accepted, "byteorder"
//     = "big" is refused.
//   legacy (torch <= 1.5 or _use_new_zipfile_serialization=False): magic,
//     protocol and sys_info pickles, the object pickle, the storage-key list
//     pickle, then each storage as an int64 element count and its bytes.
//   tar (torch <= 0.3, e.g. the original torchvision resnet18-5c106cde.pth):
//     members "storages" (pickled records, each followed by an int64 count and
//     the bytes, then storage views), "tensors" (pickled records followed by
//     ndim, sizes, strides and offset) and "pickle", whose persistent ids are
//     keys into those tables.
//   plain pickle (pickle.dump of a state_dict, no torch.save): each storage is
//     torch.storage._load_from_bytes(<a legacy stream holding it>), read by
//     the same rules (_codecs.encode(str, 'latin1') gives the bytes at
//     protocol 2). Such a file stores a storage once per tensor, so views
//     share nothing, as in Python.
//   TorchScript archives are refused by name.
//
// The pickle is run by the restricted VM of io/formats/pickle.h. The only
// globals allowed are collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// _rebuild_tensor and _rebuild_parameter, torch.nn.parameter.Parameter,
// torch.Size, torch.device, the torch.<Type>Storage classes, torch.storage._load_from_bytes
// and _codecs.encode (latin1 only), and (named in tar records, never called)
// the torch.<Type>Tensor classes; any other (os.system,
// builtins.eval, subprocess.Popen, ...) is a graft::Error naming module.name
// and the file, raised when the VM meets it: nothing is ever called.
//
// Tensors: every torch storage becomes one graft Storage, and each tensor a
// view of it with torch's sizes, strides and offset (checked to lie inside the
// storage), so tensors that shared a storage in Python share it here. By
// default storages are views of a private memory map (zip records are 64-byte
// aligned); a storage whose bytes are misaligned for its type (possible in the
// legacy format) is copied, once. Storage types Graft lacks (int16, int8,
// complex) are refused naming the tensor.
//
// What is returned: the state_dict, i.e. the top-level dict when it holds
// tensors, otherwise (a training checkpoint) the dict under options.key, or
// with no key the first of "state_dict", "model_state_dict", "model",
// "module", "net" that is a dict. A top-level list or tuple of tensors (e.g.
// list(model.parameters())) gives names "0", "1", ... Entries that are not
// tensors (nested dicts, numbers, strings) are skipped. Metadata:
//   "format"                 "pytorch-zip", "pytorch-legacy", "pytorch-tar" or "pickle"
//   "pytorch.key"            the checkpoint key used ("" for the top level)
//   "pytorch.skipped"        comma-separated names of skipped entries (if any)
//   "pytorch.top_level_keys" comma-separated string keys of the top dict, when
//                            the state_dict was taken from under one of them
//   "pytorch.version"        the zip's "version" record, when present
#pragma once

#include <optional>
#include <string>

#include "core/named_tensors.h"

namespace graft::io {

struct PytorchReadOptions {
    // Checkpoint key holding the state_dict: nullopt picks automatically,
    // "" means the top-level object itself.
    std::optional<std::string> key;
    // Convert float16, bfloat16 and float64 tensors to float32 (copies those).
    bool to_float32 = false;
    // Read storages into owned memory instead of viewing a memory map.
    bool copy = false;
};

NamedTensors read_pytorch(const std::string& path, const PytorchReadOptions& options = {});

// The same from bytes in memory (always copies). `name` is used in messages.
NamedTensors read_pytorch_bytes(const std::string& bytes, const std::string& name,
                                const PytorchReadOptions& options = {});

}  // namespace graft::io
