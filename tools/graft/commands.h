// The subcommands of the `graft` command line, one file each; main.cpp adds them.
#pragma once

#include <CLI/CLI.hpp>

namespace graft::cli {

void add_inspect(CLI::App& app);  // graft inspect FILE [--json] [--all]
void add_convert(CLI::App& app);  // graft convert IN OUT [--key K] [--to-float32]
void add_predict(CLI::App& app);  // graft predict [--model NAME] --weights FILE [--top K] [--json] IMAGE...
void add_finetune(CLI::App& app);  // graft finetune --model NAME --weights FILE --data DIR|fashion-mnist ...
void add_lr_find(CLI::App& app);   // graft lr-find (the same recipe options) [--phase probe|top] [--chart PNG]

}  // namespace graft::cli
