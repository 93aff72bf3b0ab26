// load_pretrained: pretrained weights into a model, with the renames, skips and
// policies that real checkpoints need, and a report of what happened:
//
//   auto model = nn::models::resnet18({.num_classes = 10});
//   auto report = transfer::load_pretrained(*model, "resnet18-f37072fd.pth",
//                                           {.skip = {"fc.*"}});          // new head stays
//   std::cout << report.table();
//
//   // Zero-copy: the parameters use the file's (copy-on-write) memory map.
//   transfer::load_pretrained(*model, "model.safetensors", {.share_memory = true});
//
//   // A BertForPreTraining file into a bare encoder: drop "bert.", old gamma/beta names,
//   // ignore the pretraining heads, tolerate the missing pooler.
//   transfer::load_pretrained(*bert, sd, {.strict = false, .strip_prefixes = {"bert."},
//                                         .skip = {"cls.*"}});
//
// Source names go through, in order: strip_prefixes (each prefix removed from the
// front while one matches, so "module.bert.x" loses both), the gamma/beta rule
// (a last component "gamma" becomes "weight", "beta" becomes "bias", as
// transformers does for old BERT checkpoints), then the `rename` rules (ECMAScript
// regex replacements, each applied to the whole name, in order). Two source
// entries that end at the same name are an Error naming both.
//
// Then each name is matched against the model's state_dict:
//   loaded      same name, same shape: copied in, converted to the model tensor's
//               dtype (and device); the report keeps the source's dtype and name.
//   skipped     matched by a `skip` pattern (transfer/name_pattern.h: a glob with
//               `*`, `?` and [classes], or "re:<regex>"; tested on the model-side
//               name): ignored in the source,
//               and the model's tensor keeps its value without counting as missing.
//   missing     in the model only. num_batches_tracked is exempt unless
//               require_num_batches_tracked (files older than torch 0.4.1 lack it).
//   unexpected  in the source only.
//   mismatched  in both with different shapes: an Error, or with
//               on_shape_mismatch = Skip, left out and reported (a new head).
// strict (the default) makes missing or unexpected entries an Error. Errors are
// raised before anything is copied, carry the report's table, and name the
// model type (and the file, for the path overload).
//
// share_memory (off by default) loads without a copy where it can: a source
// tensor that already has the model tensor's dtype, device and shape, is
// contiguous, aligned to its element size and overlaps no other shared source
// becomes the model tensor's data (Tensor::set_data: the parameter object, the
// layer's member and the optimizer's handle stay the same; only what they point
// at changes). Everything else is copied as without the option, and each loaded
// entry says which it was (Loaded::shared, LoadReport::shared_count; the table
// gives the reason a tensor was copied). What sharing means:
//   - from a file (the path overload, or io::read_weights' tensors): the model
//     uses the reader's private copy-on-write map of the file. Training writes
//     to private pages, never to the file; the map lives as long as any tensor
//     uses it. Loading takes no time and no memory until pages are touched.
//     Caveat, and why this is not the default: until a page is written, the
//     map follows the file, so a file rewritten in place (truncated and
//     written, as Python's open(path, "wb") and torch.save do) while the model
//     lives changes its weights or, when shorter, makes reading them a SIGBUS.
//     Graft's own writers replace files by rename (io/formats/atomic_file.h),
//     which is safe.
//   - from tensors in memory: the model and the caller's tensors then hold the
//     same bytes, and a write through one is seen by the other (as PyTorch's
//     load_state_dict(assign=True)).
//
// The path overload reads by content, not by name: a zip ("PK\3\4") or pickle
// (0x80) start is a PyTorch file (io::read_pytorch: .pth, .pt, .bin), an 8-byte
// length followed by '{' is safetensors, and a name ending ".index.json" is a
// sharded safetensors index.
#pragma once

#include <string>
#include <vector>

#include "core/named_tensors.h"
#include "nn/module.h"

namespace graft::transfer {

enum class ShapeMismatch { Error, Skip };

struct RenameRule {
    std::string pattern;      // ECMAScript regex, searched in the name
    std::string replacement;  // may use $1, $2, ...
};

struct LoadOptions {
    bool strict = true;                        // missing or unexpected entries are an Error
    std::vector<std::string> strip_prefixes = {};  // e.g. {"module.", "bert.", "model."}
    bool rename_gamma_beta = true;             // last component gamma -> weight, beta -> bias
    std::vector<RenameRule> rename = {};       // after the prefixes and gamma/beta
    std::vector<std::string> skip = {};        // globs on (renamed) names: "fc.*", "cls.*"
    bool require_num_batches_tracked = false;
    ShapeMismatch on_shape_mismatch = ShapeMismatch::Error;
    bool share_memory = false;                 // take the source's memory instead of copying (above)
};

struct LoadReport {
    struct Loaded {
        std::string name;         // the model's
        std::string source_name;  // as in the source, before renames
        Shape shape;
        DType source_dtype;
        DType dtype;              // the model tensor's (converted when different)
        bool shared = false;      // share_memory: the model tensor now uses the source's memory
        std::string copy_reason = {};  // share_memory and copied: why ("dtype differs", ...)
    };
    struct Entry {
        std::string name;
        Shape shape;
    };
    struct Mismatch {
        std::string name;
        std::string source_name;
        Shape model_shape;
        Shape source_shape;
    };
    std::vector<Loaded> loaded;
    std::vector<Entry> missing;              // model name and shape
    std::vector<Entry> unexpected;           // source name (before renames) and shape
    std::vector<Mismatch> mismatched;
    std::vector<Entry> skipped;              // source entries ignored by `skip`
    std::vector<Entry> kept;                 // model entries matched by `skip`: initial values kept
    std::vector<std::string> optional_absent;  // num_batches_tracked entries left as they were
    int64_t renamed = 0;                     // source entries whose name changed

    // Nothing missing, unexpected or mismatched.
    bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
    int64_t loaded_elements() const;
    int64_t shared_count() const;  // loaded entries that share the source's memory
    int64_t copied_count() const;  // loaded entries copied in (all of them without share_memory)
    // A summary line, then a table of every entry that is not a plain load
    // (missing / unexpected / mismatched / skipped / kept / converted or renamed
    // loads), with shapes; with all_entries, every loaded entry too.
    std::string table(bool all_entries = false) const;
};

LoadReport load_pretrained(nn::Module& model, const NamedTensors& source, const LoadOptions& options = {});
// Reads `path` with io::read_weights (io/formats/read_weights.h: safetensors, sharded
// safetensors or PyTorch, picked by content), then loads; errors name the file.
LoadReport load_pretrained(nn::Module& model, const std::string& path, const LoadOptions& options = {});

// For Hugging Face BERT files into nn::models::BertModel: strips "bert."
// (BertForPreTraining files), renames gamma/beta, skips the pretraining heads
// "cls.*" and the constant "embeddings.position_ids" older files carry.
LoadOptions bert_load_options();

// `*` and `?` glob match over the whole name.
bool glob_match(const std::string& pattern, const std::string& name);

}  // namespace graft::transfer
