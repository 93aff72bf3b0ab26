// Sequential, ModuleList and ModuleDict over the Module registry.
#include "nn/layers/container.h"

namespace graft::nn {

IndexedModules::IndexedModules(std::string type_name, std::vector<std::shared_ptr<Module>> modules)
    : Module(std::move(type_name)) {
    for (auto& m : modules) push_back(std::move(m));
}

void IndexedModules::push_back(const std::string& name, std::shared_ptr<Module> module) {
    register_module(name, std::move(module));
}

std::shared_ptr<Module> IndexedModules::operator[](int64_t i) const {
    const auto children = named_children();
    const int64_t n = int64_t(children.size());
    check(i >= -n && i < n, type_name().c_str(), "index ", i, " is out of range for ", n, " modules");
    return children[size_t(i < 0 ? i + n : i)].second;
}

std::vector<std::shared_ptr<Module>> IndexedModules::items() const {
    std::vector<std::shared_ptr<Module>> out;
    for (auto& [name, child] : named_children()) out.push_back(child);
    return out;
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor y = x;
    for (auto& [name, child] : named_children()) y = (*child)(y);
    return y;
}

std::shared_ptr<Sequential> sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
    return std::make_shared<Sequential>(modules);
}

bool ModuleDict::contains(const std::string& key) const {
    for (auto& [name, child] : named_children())
        if (name == key) return true;
    return false;
}

std::shared_ptr<Module> ModuleDict::operator[](const std::string& key) { return submodule(key); }

std::vector<std::string> ModuleDict::keys() const {
    std::vector<std::string> out;
    for (auto& [name, child] : named_children()) out.push_back(name);
    return out;
}

}  // namespace graft::nn
