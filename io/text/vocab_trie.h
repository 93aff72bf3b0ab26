// VocabTrie: a byte trie over vocabulary entries that answers "the longest
// entry that is a prefix of this text" in one walk. WordPiece's greedy
// longest-match-first is exactly that question asked repeatedly; the walk
// replaces the reference algorithm's O(n^2) hash lookups of every substring
// with one pass over the bytes. Because entries are valid UTF-8, a match
// always ends on a character boundary of the text.
//
// Layout: nodes in breadth-first order, each with a sorted run of edges
// (byte, child) in flat arrays; the root's edges are a 256-entry table.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace graft::io {

class VocabTrie {
public:
    struct Match {
        size_t length = 0;  // bytes; 0 when no entry is a prefix
        int32_t id = -1;
    };

    // Builds from (entry, id) pairs; a repeated entry keeps the last id, and
    // the empty entry is ignored.
    explicit VocabTrie(const std::vector<std::pair<std::string_view, int32_t>>& entries = {});

    Match longest_prefix(std::string_view text) const;
    size_t node_count() const { return id_.size(); }

private:
    uint32_t child(uint32_t node, uint8_t byte) const;

    std::vector<uint32_t> edge_begin_;  // per node, into edge_byte_/edge_child_; size nodes + 1
    std::vector<uint8_t> edge_byte_;
    std::vector<uint32_t> edge_child_;
    std::vector<int32_t> id_;           // per node; -1 when no entry ends there
    std::array<uint32_t, 256> root_{};  // child of the root per byte; 0 = none
};

}  // namespace graft::io
