// Images per second through the training input pipeline, Graft's side:
//   ImageFolder (stb JPEG decode, RGB) -> RandomResizedCrop(224) ->
//   RandomHorizontalFlip -> ToTensor -> Normalize(ImageNet) -> DataLoader
//   (shuffle, batch 32, 2 worker threads) -> [32, 3, 224, 224] float32 batches.
// torchvision_bench.py runs the same pipeline in torchvision; run.sh runs both.
//
//   image_pipeline_bench <folder> [--workers 2] [--batch 32] [--epochs 3] [--threads 1]
//
// One warm-up epoch (page cache, allocator) is not timed; then each epoch is
// timed on the wall clock and the best and median images/s are printed. The
// compute pool is set to --threads (1 by default), as torch's DataLoader sets
// one intra-op thread in each worker.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "io/datasets/image_folder.h"
#include "io/loader/data_loader.h"
#include "io/transforms/transforms.h"
#include "kernels/parallel.h"

using namespace graft;
using namespace graft::io;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <folder> [--workers N] [--batch N] [--epochs N] [--threads N]\n", argv[0]);
        return 2;
    }
    const std::string folder = argv[1];
    int workers = 2, epochs = 3, threads = 1;
    int64_t batch = 32;
    for (int i = 2; i + 1 < argc; i += 2) {
        const int v = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--workers")) workers = v;
        else if (!std::strcmp(argv[i], "--batch")) batch = v;
        else if (!std::strcmp(argv[i], "--epochs")) epochs = v;
        else if (!std::strcmp(argv[i], "--threads")) threads = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    try {
        set_num_threads(threads);
        using namespace graft::io::transforms;
        const TransformPtr pipeline = compose({make<RandomResizedCrop>(224), make<RandomHorizontalFlip>(),
                                               make<ToTensor>(), make<Normalize>(kImageNetMean, kImageNetStd)});
        auto ds = std::make_shared<ImageFolder>(folder, ImageFolderOptions{.transform = sample_transform(pipeline)});
        DataLoader loader(ds, {.batch_size = batch, .shuffle = true, .seed = 1, .num_workers = workers});

        std::vector<double> rates;
        for (int e = 0; e <= epochs; ++e) {
            const auto start = std::chrono::steady_clock::now();
            int64_t images = 0;
            for (const Batch& b : loader) images += b.inputs.size(0);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (e > 0) rates.push_back(double(images) / s);  // epoch 0 warms up
        }
        std::sort(rates.begin(), rates.end());
        std::printf("graft images=%lld workers=%d batch=%lld threads=%d best=%.1f median=%.1f images/s\n",
                    (long long)ds->size(), workers, (long long)batch, threads, rates.back(), rates[rates.size() / 2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
