// ImageFolder: images stored one folder per class, as torchvision's
// datasets.ImageFolder reads them:
//
//   root/cat/001.jpg        class names: the sub-folders of root, sorted by
//   root/cat/more/002.png   name (byte order, as Python sorts str); class id =
//   root/dog/003.JPEG       position in that list. Files are found recursively
//                           (symbolic links followed), listed folder by folder in
//                           sorted order as torchvision's sorted(os.walk) does.
//
//   using namespace graft::io::transforms;
//   auto augment = compose({make<RandomResizedCrop>(224), make<RandomHorizontalFlip>(),
//                           make<ToTensor>(), make<Normalize>(kImageNetMean, kImageNetStd)});
//   auto ds = std::make_shared<ImageFolder>("data/train", ImageFolderOptions{.transform = sample_transform(augment)});
//   ds->get(0).input   // the decoded image [H, W, 3] uint8, then the transform's output
//
// Only files whose extension is in `extensions` (compared case-insensitively)
// count; the default is torchvision's IMG_EXTENSIONS. The listing is made once,
// in the constructor; images are decoded lazily in get(), on the loader's
// worker threads, so a corrupt image surfaces there naming its path.
//
// Errors (graft::Error naming the path): root missing or not a folder, no class
// folders, a class folder without any image file (unless allow_empty_classes).
#pragma once

#include "io/datasets/dataset.h"
#include "io/transforms/transform.h"

namespace graft::io {

struct ImageFolderOptions {
    std::vector<std::string> extensions = {".jpg", ".jpeg", ".png", ".ppm", ".bmp",
                                           ".pgm", ".tif",  ".tiff", ".webp"};
    // Path -> image tensor. Empty: io/image's read_image as RGB [H, W, 3] uint8.
    std::function<Tensor(const std::string& path)> decode = {};
    // Applied to each decoded image with the item's Generator (may be empty).
    SampleTransform transform = {};
    bool allow_empty_classes = false;
};

struct ImageSample {
    std::string path;
    int64_t label = 0;
};

class ImageFolder final : public Dataset {
public:
    explicit ImageFolder(const std::string& root, ImageFolderOptions options = {});

    int64_t size() const override { return int64_t(samples_.size()); }
    std::vector<std::string> class_names() const override { return classes_; }
    std::string source(int64_t index) const override;
    int64_t label(int64_t index) const override;

    const std::vector<ImageSample>& samples() const { return samples_; }
    const std::string& root() const { return root_; }

protected:
    Example load(int64_t index, Generator& gen) const override;

private:
    std::string root_;
    ImageFolderOptions options_;
    std::vector<std::string> classes_;
    std::vector<ImageSample> samples_;
};

// An io/transforms pipeline as a per-sample transform (shares the pipeline,
// which is const and safe to run from several worker threads).
SampleTransform sample_transform(transforms::TransformPtr transform);

// True when `path`'s extension is one of `extensions` (case-insensitive; the
// extensions include their dot).
bool has_extension(const std::string& path, const std::vector<std::string>& extensions);

}  // namespace graft::io
