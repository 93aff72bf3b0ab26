// VocabTrie: built as a plain tree of nodes with unsorted child lists, then
// flattened breadth-first into the sorted edge arrays that lookups walk.
#include "io/text/vocab_trie.h"

#include <algorithm>
#include <deque>
#include <utility>

namespace graft::io {

namespace {

struct BuildNode {
    std::vector<std::pair<uint8_t, uint32_t>> kids;
    int32_t id = -1;
};

std::vector<BuildNode> build_tree(const std::vector<std::pair<std::string_view, int32_t>>& entries) {
    std::vector<BuildNode> nodes(1);
    for (const auto& [key, id] : entries) {
        if (key.empty()) continue;
        uint32_t node = 0;
        for (char c : key) {
            auto byte = static_cast<uint8_t>(c);
            auto& kids = nodes[node].kids;
            auto it = std::find_if(kids.begin(), kids.end(), [&](const auto& k) { return k.first == byte; });
            if (it != kids.end()) {
                node = it->second;
            } else {
                kids.emplace_back(byte, uint32_t(nodes.size()));
                node = uint32_t(nodes.size());
                nodes.emplace_back();  // invalidates `kids`; not used again
            }
        }
        nodes[node].id = id;
    }
    return nodes;
}

}  // namespace

VocabTrie::VocabTrie(const std::vector<std::pair<std::string_view, int32_t>>& entries) {
    std::vector<BuildNode> tree = build_tree(entries);
    // Breadth-first numbering: new index of each tree node.
    std::vector<uint32_t> order{0}, index(tree.size());
    for (size_t i = 0; i < order.size(); ++i) {
        auto& kids = tree[order[i]].kids;
        std::sort(kids.begin(), kids.end());
        for (const auto& kid : kids) {
            index[kid.second] = uint32_t(order.size());
            order.push_back(kid.second);
        }
    }
    edge_begin_.reserve(order.size() + 1);
    id_.reserve(order.size());
    for (uint32_t old : order) {
        edge_begin_.push_back(uint32_t(edge_byte_.size()));
        id_.push_back(tree[old].id);
        for (const auto& [byte, kid] : tree[old].kids) {
            edge_byte_.push_back(byte);
            edge_child_.push_back(index[kid]);
        }
    }
    edge_begin_.push_back(uint32_t(edge_byte_.size()));
    for (const auto& [byte, kid] : tree[0].kids) root_[byte] = index[kid];
}

uint32_t VocabTrie::child(uint32_t node, uint8_t byte) const {
    if (node == 0) return root_[byte];
    const uint8_t* first = edge_byte_.data() + edge_begin_[node];
    const uint8_t* last = edge_byte_.data() + edge_begin_[node + 1];
    // Most nodes have a handful of children: scan; wide ones: binary search.
    const uint8_t* it = last - first <= 8 ? std::find(first, last, byte) : std::lower_bound(first, last, byte);
    if (it == last || *it != byte) return 0;
    return edge_child_[size_t(it - edge_byte_.data())];
}

VocabTrie::Match VocabTrie::longest_prefix(std::string_view text) const {
    Match best;
    uint32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        node = child(node, static_cast<uint8_t>(text[i]));
        if (node == 0) break;  // the root is never anyone's child, so 0 means "none"
        if (id_[node] >= 0) best = Match{i + 1, id_[node]};
    }
    return best;
}

}  // namespace graft::io
