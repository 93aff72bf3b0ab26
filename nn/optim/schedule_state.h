// Internal to nn/optim: the JSON behind LRScheduler::state_dict(), kept out of
// the public header so that users of schedule.h need no nlohmann/json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nn/optim/schedule.h"

namespace graft::optim {

struct SchedulerState {
    nlohmann::json json;
};

// Parses a scheduler state and checks its "type" is `type_name`; throws Error
// ("<type_name>.load_state_dict: ...") otherwise.
nlohmann::json parse_scheduler_state(const std::string& text, const std::string& type_name);

}  // namespace graft::optim
