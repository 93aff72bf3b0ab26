// libFuzzer target: arbitrary bytes into decode_image, then, for what decodes, a
// few transforms. The contract under test: every input either decodes to a
// tensor of the size its header declares or throws graft::Error; nothing
// crashes, leaks, reads out of bounds or hangs.
#include <cstddef>
#include <cstdint>

#include "io/image/image_read.h"
#include "io/transforms/transforms.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace graft;
    using namespace graft::io;
    try {
        // Refuse huge (valid) headers here, to keep each run fast and within the
        // fuzzer's memory limit; the 2^28-pixel library limit is tested elsewhere.
        ImageInfo info = image_info(data, size, "fuzz");
        if (info.height * info.width > (int64_t(1) << 22)) return 0;
        const ImageChannels mode = size % 2 ? ImageChannels::keep : ImageChannels::rgb;
        Tensor img = decode_image(data, size, "fuzz", mode);
        if (img.size(0) != info.height || img.size(1) != info.width) __builtin_trap();
        if (img.size(2) == 2) return 0;  // grey+alpha is not a transform input
        Generator rng(size);
        Tensor x = transforms::resize(img, transforms::Size(7));
        x = transforms::RandomResizedCrop(5)(img, rng);
        x = transforms::center_crop(img, 9, 4);
        if (img.size(2) != 4) x = transforms::ColorJitter(0.4, 0.4, 0.4, 0.1)(x, rng);
        x = transforms::normalize(transforms::to_tensor(x), {0.5}, {0.25});
    } catch (const Error&) {
    }
    return 0;
}
