// Internal to nn/optim (and its tests): the fields of optim::Options listed by
// torch's names, and their JSON form in checkpoints ({"lr": 0.1, "betas":
// [0.9, 0.999], ...}). Needs nlohmann/json, which public headers avoid.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nn/optim/optimizer.h"

namespace graft::optim {

// Calls fn(name, &Options::field) for each hyper-parameter (not initial_lr).
template <typename Fn>
void for_each_option(Fn&& fn) {
    fn("lr", &Options::lr);
    fn("momentum", &Options::momentum);
    fn("dampening", &Options::dampening);
    fn("nesterov", &Options::nesterov);
    fn("betas", &Options::betas);
    fn("eps", &Options::eps);
    fn("alpha", &Options::alpha);
    fn("centered", &Options::centered);
    fn("amsgrad", &Options::amsgrad);
    fn("weight_decay", &Options::weight_decay);
    fn("maximize", &Options::maximize);
}

// The set fields (and initial_lr when set) as a JSON object.
nlohmann::json options_to_json(const Options& options);
// The inverse; keys "name" and "params" are skipped, any other unknown key or
// a value of the wrong type throws Error("<op>: ... in <where>").
Options options_from_json(const nlohmann::json& object, const char* op, const std::string& where);

}  // namespace graft::optim
