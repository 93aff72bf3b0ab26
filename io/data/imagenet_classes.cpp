#include "io/data/imagenet_classes.h"

namespace graft::io {

const std::array<std::string_view, 1000>& imagenet_classes() {
    static const std::array<std::string_view, 1000> names{
#include "io/data/imagenet_classes.inc"
    };
    return names;
}

}  // namespace graft::io
