// LoRA fine-tuning of a whole model: wrap the chosen Linear and Conv2d layers in
// low-rank adapters (transfer/lora_layers.h has the layer and its maths), train
// only the adapters, merge them back for inference, and keep them in a small
// safetensors file that PEFT can read.
//
//   auto bert = std::make_shared<nn::models::BertModel>(cfg);
//   transfer::load_pretrained(*bert, "model.safetensors", transfer::bert_load_options());  // base first
//   auto wrapped = transfer::apply_lora(*bert, {.rank = 8, .alpha = 16,
//                                              .target_modules = {"*query", "*value"}});
//   optim::AdamW opt(transfer::lora_parameters(*bert), {.lr = 1e-3});
//   ... train ...
//   transfer::save_lora(*bert, "adapter_model.safetensors");   // a few hundred KB
//   transfer::merge_lora(*bert);                                // inference at base cost
//
// Targets are globs ('*' any run of characters, '?' one) on module paths as
// named_modules() prints them ("encoder.layer.0.attention.self.query"): "*query",
// "layer4.*.conv2", "classifier". Empty means every Linear (PEFT's "all-linear",
// without its exception for the output layer). Modules a pattern matches that
// are neither Linear nor Conv2d are passed over (so "layer4.*" means the convs
// in layer4); a matched grouped Conv2d is an Error.
//
// Names after wrapping: the wrapped path holds "base_layer", "lora_A", "lora_B",
// so the state_dict says "...query.base_layer.weight" and "...query.lora_A.weight"
// (PEFT's in-memory names less its adapter-name level). A base checkpoint
// therefore loads before apply_lora, as with PEFT; to load one afterwards use
// lora_base_load_options(); base_state_dict() writes the plain names back
// (merge_lora first to fold the adapters in), and unload_lora() gives back the
// plain model itself, merged or not.
//
// Adapter files: save_lora writes only the adapter tensors, under PEFT's keys
// "base_model.model.<path>.lora_A.weight" / ".lora_B.weight" (the same for Conv2d:
// PEFT's conv adapters are lora_A/lora_B Conv2d modules too), with the
// safetensors metadata {"format": "pt", "adapter_config": JSON with PEFT's
// adapter_config.json fields}: peft_type "LORA", r, lora_alpha, lora_dropout,
// target_modules (the exact wrapped paths, which PEFT matches as name
// suffixes), bias "none", rank_pattern / alpha_pattern for layers whose rank or
// alpha differs from the first, plus "graft_target_patterns" (the globs given).
// The write is atomic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/named_tensors.h"
#include "core/ops/random.h"
#include "nn/module.h"
#include "transfer/load_pretrained.h"
#include "transfer/lora_layers.h"

namespace graft::transfer {

struct LoraOptions {
    int64_t rank = 8;
    double alpha = 16;     // scaling = alpha / rank
    double dropout = 0.0;  // on the adapter's input only, in training mode
    // Glob patterns on module paths ("*query", "*value", "layer4.*.conv2");
    // empty = every Linear.
    std::vector<std::string> target_modules = {};
    // Draws lora_A's initial values (null: graft::default_generator()).
    Generator* gen = nullptr;
    // Also turn requires_grad off for every parameter outside the adapters, as
    // PEFT's get_peft_model does (a new head then needs unfreezing by hand).
    bool freeze_base_model = false;
};

// Wraps every matching Linear / Conv2d in place (Module::replace_module on its
// parent), freezing the base weights; returns the wrapped module paths, in
// named_modules() order. Layers already inside a LoRA wrapper are never wrapped
// again; a layer shared by two paths is wrapped once, at its first path (its
// hook adds the update wherever it is called). Error if nothing matches (listing some of the model's module paths),
// for a bad rank, alpha or dropout, or a matched grouped Conv2d. The model must
// be held by a shared_ptr (named_modules needs it), and cannot itself be the
// layer to wrap (it has no parent).
std::vector<std::string> apply_lora(nn::Module& model, const LoraOptions& options);

// Every LoRA layer of the model with its path, in named_modules() order.
std::vector<std::pair<std::string, std::shared_ptr<LoraLayer>>> lora_layers(const nn::Module& model);
// Folds every adapter into its base weight / takes it out again. Error if a
// layer is already in the asked state or the model has no LoRA layer.
void merge_lora(nn::Module& model);
void unmerge_lora(nn::Module& model);
// PEFT's merge_and_unload / unload: puts each base layer back in its wrapper's
// place, with the update folded into its weight (merge = true) or without it
// (merge = false: the weights the base had before), so the model has its plain
// names and structure again. The base parameters keep requires_grad off. Error
// without LoRA layers.
void unload_lora(nn::Module& model, bool merge = true);
// lora_A and lora_B weights of every LoRA layer (what the optimizer trains).
std::vector<Tensor> lora_parameters(const nn::Module& model);

// Writes the adapters alone (see the top of this file). Error without LoRA layers.
void save_lora(const nn::Module& model, const std::string& path);
// The tensors and metadata save_lora writes, in memory.
NamedTensors lora_state_dict(const nn::Module& model);
// Loads adapters written by save_lora or PEFT (keys with or without the
// "base_model.model." prefix) into a model that apply_lora gave the same
// targets. Every LoRA layer must find both tensors with its shapes and every
// file entry must find a layer, or be a tensor of a module the config lists in
// modules_to_save (PEFT saves a new head whole; it loads into the model's tensor
// of that name); otherwise an Error lists each missing,
// unexpected and mismatched key with both shapes, and nothing is loaded. The
// alpha (lora_alpha / alpha_pattern) of the file's adapter_config metadata is
// adopted; PEFT's own files keep that in adapter_config.json beside them, which
// is read when present. Error while merged.
void load_lora(nn::Module& model, const std::string& path);

// The model's state_dict as the unwrapped model names it: adapter tensors left
// out, ".base_layer" dropped. Tensors are the current base weights (merged or not).
NamedTensors base_state_dict(const nn::Module& model);
// `base` plus rename rules and skips that load a plain checkpoint ("…query.weight")
// into a wrapped model ("…query.base_layer.weight"), leaving the adapters as they are.
LoadOptions lora_base_load_options(const nn::Module& model, LoadOptions base = {});

}  // namespace graft::transfer
