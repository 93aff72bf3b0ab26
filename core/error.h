// graft::Error: the one exception type of the library, and the helpers that build
// its messages. Every public entry point validates its arguments and throws Error
// with a message that names the op (or file, or tensor) and the shapes and dtypes
// involved. Kernels below the API boundary assume valid arguments and never throw.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace graft {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "[2, 3, 4]": the way every message in Graft writes a shape. It formats only
// when streamed or converted to std::string, so passing shape_str(x) to check()
// costs nothing when the check passes. Use it inside one expression; do not
// keep it (it refers to the shape).
struct ShapeText {
    const std::vector<int64_t>& shape;
    operator std::string() const;
};
std::ostream& operator<<(std::ostream& os, const ShapeText& text);
inline ShapeText shape_str(const std::vector<int64_t>& shape) { return ShapeText{shape}; }
inline std::string operator+(std::string lhs, const ShapeText& rhs) { return lhs + std::string(rhs); }
inline std::string operator+(const ShapeText& lhs, const std::string& rhs) { return std::string(lhs) + rhs; }

namespace detail {
inline void append_all(std::ostringstream&) {}
template <typename First, typename... Rest>
void append_all(std::ostringstream& os, const First& first, const Rest&... rest) {
    os << first;
    append_all(os, rest...);
}
}  // namespace detail

// Concatenates its arguments with operator<< into one string.
template <typename... Parts>
std::string cat_str(const Parts&... parts) {
    std::ostringstream os;
    detail::append_all(os, parts...);
    return os.str();
}

// Throws Error("<op>: <message parts...>") unless `condition` holds.
// The message is only formatted on failure, so checks are cheap on the hot path.
template <typename... Parts>
inline void check(bool condition, const char* op, const Parts&... parts) {
    if (!condition) [[unlikely]]
        throw Error(cat_str(op, ": ", parts...));
}

}  // namespace graft
