// Training checkpoints: everything a run needs to continue exactly where it
// stopped, in one safetensors file written atomically.
//
//   transfer::TrainingObjects run{.model = model.get(), .optimizer = &adamw, .scheduler = &cosine};
//   transfer::save_checkpoint("run/last.safetensors", run, {.epoch = e, .step = s});
//   ...
//   transfer::TrainingState at = transfer::load_checkpoint("run/last.safetensors", run);
//
// Resuming is bit-identical: after load, the next steps produce the same
// losses and weights, to the last bit, as the uninterrupted run, because the
// file holds every input of a step: the weights and buffers, the optimizer's
// per-parameter state and groups' hyper-parameters (lr included), the
// schedule's counters, and the random generator's (seed, offset) that dropout
// and shuffling draw from.
//
// The file (docs/formats.md lists it in full):
//   tensors   "model.<state_dict name>"      Module::state_dict()
//             "optim.<name>"                 Optimizer::state_dict() tensors
//   metadata  "format": "graft.checkpoint/1", "epoch", "step", "extra" (caller JSON),
//             "rng": {"seed": .., "offset": ..}, "optim.optimizer", "optim.format",
//             "optim.param_groups", "scheduler" and "plateau" (their state JSON)
// Model tensors open with any safetensors reader under their "model." names.
//
// Saving goes through AtomicFile (temp file, fsync, rename, fsync folder): a
// crash or kill at any moment leaves either the previous checkpoint or the new
// one at `path`, never a mixture, and the next save sweeps temp files that
// killed processes left.
//
// Loading checks before it changes anything: the format, the model's names and
// shapes (strict: every key both ways), the optimizer's type and groups, the
// schedule's type. Errors are graft::Error naming the file and the problem.
// Leaves out: generators other than the one given (a Dropout with its own
// Generator, worker-thread generators), CUDA RNG state, data-loader position
// beyond what `step`/`extra` let the caller rebuild.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops/random.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/schedule.h"

namespace graft::transfer {

// Where the caller's loop is, and anything else it wants back (JSON text).
struct TrainingState {
    int64_t epoch = 0;
    int64_t step = 0;
    std::string extra_json{};
};

// The objects a checkpoint saves and restores; null members are skipped.
struct TrainingObjects {
    nn::Module* model = nullptr;
    optim::Optimizer* optimizer = nullptr;
    optim::LRScheduler* scheduler = nullptr;
    optim::ReduceLROnPlateau* plateau = nullptr;
    Generator* rng = &default_generator();
};

// The version this build writes (and the newest it reads).
inline constexpr const char* kCheckpointFormat = "graft.checkpoint/1";

void save_checkpoint(const std::string& path, const TrainingObjects& objects, const TrainingState& state = {});

// Restores into `objects` and returns the saved TrainingState. With `strict`,
// the model must match the file key for key and shape for shape, and the file
// must hold state for every optimizer, schedule and rng given (state in the
// file for objects not given is ignored: a model alone loads from a full
// checkpoint). Without it, model keys are matched as far as they go (`report`
// says how) and parts missing from the file leave the given objects as they are.
TrainingState load_checkpoint(const std::string& path, const TrainingObjects& objects, bool strict = true,
                              nn::LoadReport* report = nullptr);

// The positional forms (a model plus optional optimizer, schedule and rng).
void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const optim::LRScheduler* scheduler, const TrainingState& state,
                     const Generator* rng = &default_generator());
TrainingState load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                              optim::LRScheduler* scheduler, Generator* rng = &default_generator(),
                              bool strict = true);

}  // namespace graft::transfer
