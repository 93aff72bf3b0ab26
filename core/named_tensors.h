// NamedTensors: an ordered map from dotted names ("layer1.0.conv1.weight") to
// tensors, plus string metadata. It is the currency between rooms: every weight
// reader returns one, every writer takes one, Module::state_dict() produces one
// and load_state_dict() consumes one. Insertion order is kept (it is the order
// PyTorch writes state_dicts in).
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace graft {

class NamedTensors {
public:
    using Item = std::pair<std::string, Tensor>;

    // Inserts or replaces `name` (a replaced entry keeps its position).
    void set(const std::string& name, const Tensor& tensor);
    bool contains(const std::string& name) const { return index_.count(name) != 0; }
    // The tensor called `name`; throws Error listing a few similar names if absent.
    const Tensor& at(const std::string& name) const;
    const Tensor* find(const std::string& name) const;
    bool erase(const std::string& name);

    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    std::vector<Item>::const_iterator begin() const { return items_.begin(); }
    std::vector<Item>::const_iterator end() const { return items_.end(); }
    std::vector<std::string> names() const;
    // Sum of numel over all entries.
    int64_t total_numel() const;

    std::map<std::string, std::string> metadata;

private:
    std::vector<Item> items_;
    std::unordered_map<std::string, size_t> index_;
};

}  // namespace graft
