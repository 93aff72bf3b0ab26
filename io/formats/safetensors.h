// safetensors: Hugging Face's tensor file format, read and written.
//
//   NamedTensors w = io::read_safetensors("model.safetensors");   // memory-mapped
//   io::write_safetensors("out.safetensors", model.state_dict());   // atomic
//   NamedTensors all = io::read_safetensors_sharded("model.safetensors.index.json");
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON header, then
// the tensor bytes to the end of the file. The header maps each name to
// {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets into
// the byte buffer, end exclusive); "__metadata__" is a string -> string map.
// Data is little-endian and row-major.
//
// Reading validates everything the reference implementation does (and the
// README's rules it leaves to others), before creating any tensor: the header
// length against the 100 MB limit and the file size; the JSON (UTF-8, an
// object, no duplicate keys at any level, each entry with a known dtype, a
// shape of non-negative integers and two offsets); shape x element size
// computed without overflow and equal to end - begin; and the ranges, sorted,
// tiling the buffer exactly from 0 to its end (no gap, no overlap, no trailing
// bytes). Every error is a graft::Error naming the file and the tensor.
// Valid safetensors dtypes Graft has no type for (I8, I16, U16, U32, U64, C64,
// the F8/F6/F4 floats) are refused by name.
//
// By default tensors are views of a private memory map of the file: nothing is
// read until used, and all tensors share one mapping that is unmapped when the
// last of them dies. Writing to such a tensor copies the page (MAP_PRIVATE);
// the file never changes. A tensor whose bytes are not aligned to its element
// size (legal, if unusual) is copied instead. Replacing the file by rename
// while it is mapped is safe; truncating it in place is not (SIGBUS on access),
// which is what copy = true is for.
//
// Writing: tensors in the reference writer's order (by dtype alignment, then
// name), the header padded with spaces to a multiple of 8 so the buffer starts
// aligned, non-contiguous and non-CPU tensors made contiguous on the CPU.
// The file is written through AtomicFile: a failure leaves the previous file.
//
// Not handled: big-endian hosts, writing the dtypes Graft lacks, shared
// storage (each tensor's bytes are written separately, as the format wants).
#pragma once

#include <map>
#include <string>

#include "core/named_tensors.h"

namespace graft::io {

struct SafetensorsReadOptions {
    // Read the tensors into owned memory instead of mapping the file.
    bool copy = false;
};

// Reads every tensor (in file order) and the "__metadata__" strings.
NamedTensors read_safetensors(const std::string& path, const SafetensorsReadOptions& options = {});

// Writes `tensors` with `tensors.metadata` as "__metadata__".
void write_safetensors(const std::string& path, const NamedTensors& tensors);
// Writes `tensors` with the given metadata (tensors.metadata is ignored).
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata);

// The bytes write_safetensors would write (for tests, tools and in-memory use).
std::string serialize_safetensors(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata);

// A Hugging Face sharded checkpoint: `index_path` is model.safetensors.index.json,
// {"metadata": {...}, "weight_map": {tensor name: shard file name}}. Each shard
// is opened once; every name must be in the shard the index names, and every
// tensor of a shard must be listed for that shard. Shard names are relative to
// the index's folder and may not leave it (no absolute paths, no ".."). Tensors
// come in weight_map order; metadata holds the index's "metadata" entries (non-
// string values as JSON text) and the first shard's "__metadata__".
NamedTensors read_safetensors_sharded(const std::string& index_path, const SafetensorsReadOptions& options = {});

}  // namespace graft::io
