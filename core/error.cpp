#include "core/error.h"

#include <ostream>

namespace graft {

ShapeText::operator std::string() const {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

std::ostream& operator<<(std::ostream& os, const ShapeText& text) { return os << std::string(text); }

}  // namespace graft
