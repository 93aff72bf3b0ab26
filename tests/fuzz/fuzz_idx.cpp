// libFuzzer target: arbitrary bytes -> parse_idx (raw or gzipped IDX). A valid
// file must give a tensor of exactly the declared element count; anything else
// must be a graft::Error. A crash, a leak, a sanitizer report or another
// exception type is a bug. Seeds: tests/fuzz/corpus/idx (see CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "io/datasets/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const graft::Tensor t = graft::io::parse_idx(data, size, "fuzz.idx");
        // The product of the sizes: 0 when any size is 0, even beside huge ones
        // (whose product alone would overflow).
        int64_t n = 1;
        bool has_zero = false;
        for (int64_t s : t.shape()) has_zero = has_zero || s == 0;
        if (!has_zero)
            for (int64_t s : t.shape()) n *= s;
        else
            n = 0;
        if (n != t.numel() || !t.is_contiguous()) std::abort();
        // Touch every byte so the sanitizers see any bad read.
        const auto* p = static_cast<const unsigned char*>(t.numel() ? t.raw_data() : nullptr);
        unsigned sum = 0;
        for (size_t i = 0; i < size_t(t.numel()) * t.element_size(); ++i) sum += p[i];
        (void)sum;
    } catch (const graft::Error&) {
    }
    return 0;
}
