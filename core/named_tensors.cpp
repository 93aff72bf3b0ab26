#include "core/named_tensors.h"

namespace graft {

void NamedTensors::set(const std::string& name, const Tensor& tensor) {
    auto it = index_.find(name);
    if (it != index_.end()) {
        items_[it->second].second = tensor;
        return;
    }
    index_.emplace(name, items_.size());
    items_.emplace_back(name, tensor);
}

const Tensor* NamedTensors::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Tensor& NamedTensors::at(const std::string& name) const {
    if (const Tensor* t = find(name)) return *t;
    // Suggest names sharing the last component ("weight" for "fc.weight").
    const std::string leaf = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
    std::string similar;
    int shown = 0;
    for (const auto& [n, t] : items_) {
        if (shown < 5 && n.size() >= leaf.size() && n.compare(n.size() - leaf.size(), leaf.size(), leaf) == 0) {
            similar += (shown++ ? ", " : "") + n;
        }
    }
    throw Error(cat_str("NamedTensors: no tensor named '", name, "' among ", items_.size(), " entries",
                        similar.empty() ? "" : " (similar: " + similar + ")"));
}

bool NamedTensors::erase(const std::string& name) {
    auto it = index_.find(name);
    if (it == index_.end()) return false;
    items_.erase(items_.begin() + int64_t(it->second));
    index_.clear();
    for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].first, i);
    return true;
}

std::vector<std::string> NamedTensors::names() const {
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const auto& [n, t] : items_) out.push_back(n);
    return out;
}

int64_t NamedTensors::total_numel() const {
    int64_t n = 0;
    for (const auto& [name, t] : items_) n += t.numel();
    return n;
}

}  // namespace graft
