// Containers: Sequential, ModuleList and ModuleDict, as torch.nn's.
//
//   auto mlp = nn::sequential({
//       std::make_shared<nn::Linear>(784, 128),   // "0.weight", "0.bias"
//       std::make_shared<nn::ReLU>(),             // "1"
//       std::make_shared<nn::Linear>(128, 10),    // "2.weight", "2.bias"
//   });
//   auto head = mlp->at<nn::Linear>(2);           // typed access by position
//
// Children are named "0", "1", ... in the order added (or by key, for
// ModuleDict), so state_dict names equal PyTorch's. The children live in the
// Module registry and nowhere else, so replace_module("2", new_head) is seen by
// forward and operator[] at once.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace graft::nn {

// Children reached by position: the part Sequential and ModuleList share.
class IndexedModules : public Module {
public:
    // Appends `module` under the name str(size()); returns it, typed.
    template <typename M>
    std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
        register_module(std::to_string(size()), module);
        return module;
    }
    // Appends under an explicit name (torch's Sequential(OrderedDict(...))).
    void push_back(const std::string& name, std::shared_ptr<Module> module);
    size_t size() const { return named_children().size(); }
    bool empty() const { return size() == 0; }
    // The child at position i (negative counts from the end); throws when out of range.
    std::shared_ptr<Module> operator[](int64_t i) const;
    // The child at i cast to M; throws naming both types when it is something else.
    template <typename M>
    std::shared_ptr<M> at(int64_t i) const {
        std::shared_ptr<Module> m = (*this)[i];
        auto typed = std::dynamic_pointer_cast<M>(m);
        check(typed != nullptr, type_name().c_str(), "child ", i, " is a ", m->type_name(), ", not the type asked for");
        return typed;
    }
    // The children in order (handles; cheap to copy).
    std::vector<std::shared_ptr<Module>> items() const;

protected:
    IndexedModules(std::string type_name, std::vector<std::shared_ptr<Module>> modules);
};

// Runs its children one after another, each on the previous one's output.
class Sequential : public IndexedModules {
public:
    Sequential() : Sequential(std::vector<std::shared_ptr<Module>>{}) {}
    Sequential(std::initializer_list<std::shared_ptr<Module>> modules)
        : Sequential(std::vector<std::shared_ptr<Module>>(modules)) {}
    explicit Sequential(std::vector<std::shared_ptr<Module>> modules)
        : IndexedModules("Sequential", std::move(modules)) {}
    Tensor forward(const Tensor& x) override;
};

// make_shared<Sequential> for a braced list (Modules live in shared_ptrs:
// named_modules() and Taps need shared_from_this).
std::shared_ptr<Sequential> sequential(std::initializer_list<std::shared_ptr<Module>> modules);

// Holds children by position for a parent's own forward; has no forward itself.
class ModuleList : public IndexedModules {
public:
    ModuleList() : ModuleList(std::vector<std::shared_ptr<Module>>{}) {}
    ModuleList(std::initializer_list<std::shared_ptr<Module>> modules)
        : ModuleList(std::vector<std::shared_ptr<Module>>(modules)) {}
    explicit ModuleList(std::vector<std::shared_ptr<Module>> modules)
        : IndexedModules("ModuleList", std::move(modules)) {}
};

// Holds children by key, in insertion order; has no forward itself.
class ModuleDict : public Module {
public:
    ModuleDict() : Module("ModuleDict") {}
    template <typename M>
    std::shared_ptr<M> insert(const std::string& key, std::shared_ptr<M> module) {
        return register_module(key, module);
    }
    bool contains(const std::string& key) const;
    // The child under `key`; throws naming the keys that exist.
    std::shared_ptr<Module> operator[](const std::string& key);
    std::vector<std::string> keys() const;
    size_t size() const { return named_children().size(); }
};

}  // namespace graft::nn
