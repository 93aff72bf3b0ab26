// Grad mode: whether ops record a backward graph on this thread.
// NoGradGuard turns recording off for a scope (inference, optimizer steps,
// feature caching); nothing inside it builds nodes or saves tensors.
#pragma once

namespace graft::autograd {

class GradMode {
public:
    static bool enabled();
    static void set_enabled(bool enabled);
};

class NoGradGuard {
public:
    NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
    ~NoGradGuard() { GradMode::set_enabled(previous_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

}  // namespace graft::autograd

namespace graft {
using autograd::NoGradGuard;
}
