// ImageFolder: the class and file listing (torchvision's order) and lazy decoding.
#include "io/datasets/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/ops/creation.h"
#include "io/image/image_read.h"

namespace graft::io {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);  // follows symbolic links
}

// Every file under `dir` with a wanted extension, ordered by (folder, name) as
// Python's sorted(os.walk(dir, followlinks=True)) visits them.
std::vector<std::string> list_files(const fs::path& dir, const std::vector<std::string>& extensions) {
    std::vector<std::pair<std::string, std::string>> found;  // (folder, file name)
    std::error_code ec;
    auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink |
                                                        fs::directory_options::skip_permission_denied, ec);
    check(!ec, "ImageFolder", dir.string(), ": cannot list: ", ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        check(!ec, "ImageFolder", dir.string(), ": cannot list: ", ec.message());
        const fs::path& p = it->path();
        if (is_dir(p)) continue;
        if (has_extension(p.filename().string(), extensions))
            found.emplace_back(p.parent_path().string(), p.filename().string());
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> paths;
    for (const auto& [folder, name] : found) paths.push_back((fs::path(folder) / name).string());
    return paths;
}

}  // namespace

SampleTransform sample_transform(transforms::TransformPtr transform) {
    check(transform != nullptr, "sample_transform", "the transform is null");
    return [transform](Tensor image, Generator& gen) { return (*transform)(image, gen); };
}

bool has_extension(const std::string& path, const std::vector<std::string>& extensions) {
    const std::string name = lower(path);
    for (const std::string& ext : extensions) {
        const std::string e = lower(ext);
        if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
    }
    return false;
}

ImageFolder::ImageFolder(const std::string& root, ImageFolderOptions options)
    : root_(root), options_(std::move(options)) {
    check(!options_.extensions.empty(), "ImageFolder", root, ": the extension list is empty");
    std::error_code ec;
    check(fs::exists(root, ec), "ImageFolder", root, ": no such folder");
    check(is_dir(root), "ImageFolder", root, ": not a folder");

    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
        if (is_dir(it->path())) classes_.push_back(it->path().filename().string());
    check(!ec, "ImageFolder", root, ": cannot list: ", ec.message());
    std::sort(classes_.begin(), classes_.end());
    check(!classes_.empty(), "ImageFolder", root, ": no class folders (expected root/<class>/<image files>)");

    std::vector<std::string> empty;
    for (size_t c = 0; c < classes_.size(); ++c) {
        const std::vector<std::string> files = list_files(fs::path(root) / classes_[c], options_.extensions);
        if (files.empty()) empty.push_back(classes_[c]);
        for (const std::string& f : files) samples_.push_back({f, int64_t(c)});
    }
    if (!empty.empty() && !options_.allow_empty_classes) {
        std::string names, exts;
        for (const std::string& e : empty) names += (names.empty() ? "" : ", ") + e;
        for (const std::string& e : options_.extensions) exts += (exts.empty() ? "" : " ") + e;
        throw Error(cat_str("ImageFolder: ", root, ": no image files in class folder(s) ", names,
                            " (extensions looked for: ", exts, ")"));
    }
    check(!samples_.empty(), "ImageFolder", root, ": no image files at all");
    if (!options_.decode)
        options_.decode = [](const std::string& path) { return read_image(path, ImageChannels::rgb); };
}

std::string ImageFolder::source(int64_t index) const {
    if (index >= 0 && index < size()) return samples_[size_t(index)].path;
    return Dataset::source(index);
}

int64_t ImageFolder::label(int64_t index) const {
    check(index >= 0 && index < size(), "ImageFolder::label", "index ", index, " is out of range for ", size(),
          " items");
    return samples_[size_t(index)].label;
}

Example ImageFolder::load(int64_t index, Generator& gen) const {
    const ImageSample& s = samples_[size_t(index)];
    Tensor image = options_.decode(s.path);
    if (options_.transform) image = options_.transform(std::move(image), gen);
    return {image, scalar_tensor(s.label, DType::Int64), s.path};
}

}  // namespace graft::io
