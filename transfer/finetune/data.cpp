#include "transfer/finetune/data.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/ops/random.h"
#include "core/ops/views.h"
#include "io/datasets/fashion_mnist.h"
#include "io/datasets/image_folder.h"
#include "io/datasets/splits.h"
#include "io/datasets/tensor_dataset.h"
#include "io/transforms/crop.h"
#include "io/transforms/resize.h"
#include "io/transforms/to_tensor.h"

namespace graft::transfer {
namespace fs = std::filesystem;

io::SampleTransform image_transform(const nn::models::Preprocessing& pre, bool direct) {
    std::vector<double> mean(pre.mean.begin(), pre.mean.end()), std(pre.std.begin(), pre.std.end());
    return [=](Tensor image, Generator&) {
        if (image.dim() == 2) image = image.reshape({image.size(0), image.size(1), 1});
        check(image.dim() == 3 && image.dtype() == DType::UInt8, "image_transform",
              ": expected a uint8 [H, W] or [H, W, C] image, got ", dtype_name(image.dtype()), " ", shape_str(image.shape()));
        if (image.size(2) == 4) image = image.slice(2, 0, 3);
        if (image.size(2) == 1) image = expand(image, {image.size(0), image.size(1), 3});
        image = image.contiguous();
        Tensor sized = direct ? io::transforms::resize(image, pre.crop, pre.crop)
                              : io::transforms::center_crop(io::transforms::resize(image, pre.resize), pre.crop, pre.crop);
        return io::transforms::to_tensor_normalized(sized, mean, std);
    };
}

namespace {

std::string describe(const nn::models::Preprocessing& pre, bool direct) {
    std::ostringstream s;
    s << (direct ? "resize " : "resize-short ") << (direct ? pre.crop : pre.resize);
    if (!direct) s << " center-crop " << pre.crop;
    s << " rgb mean " << pre.mean[0] << "," << pre.mean[1] << "," << pre.mean[2] << " std " << pre.std[0] << ","
      << pre.std[1] << "," << pre.std[2];
    return s.str();
}

io::DatasetPtr first_n(io::DatasetPtr data, int64_t n) {
    if (n <= 0 || n >= data->size()) return data;
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = i;
    return std::make_shared<io::Subset>(data, idx);
}

io::DatasetPtr maybe_few_shot(io::DatasetPtr data, const FinetuneDataOptions& o) {
    return o.shots > 0 ? io::DatasetPtr(io::few_shot(data, o.shots, o.seed)) : data;
}

std::vector<std::string> fmnist_names() {
    std::vector<std::string> names;
    for (auto n : io::FashionMnist::classes) names.emplace_back(n);
    return names;
}

}  // namespace

FinetuneData load_finetune_data(const std::string& source, const nn::models::Preprocessing& pre,
                                const FinetuneDataOptions& o) {
    FinetuneData out;
    const std::string fm = "fashion-mnist";
    if (source == fm || source.rfind(fm + ":", 0) == 0) {
        std::string dir = source == fm ? io::kFashionMnistDir : source.substr(fm.size() + 1);
        auto train = io::load_fashion_mnist(dir, true);
        auto test = io::load_fashion_mnist(dir, false);
        out.class_names = fmnist_names();
        auto tr = std::make_shared<io::TensorDataset>(train.images, train.labels, out.class_names);
        auto te = std::make_shared<io::TensorDataset>(test.images, test.labels, out.class_names);
        auto tf = image_transform(pre, /*direct=*/true);
        out.train = io::with_transform(maybe_few_shot(tr, o), tf);
        out.eval = io::with_transform(first_n(te, o.max_eval), tf);
        out.preprocessing = "fashion-mnist grey->rgb " + describe(pre, true);
    } else {
        check(fs::is_directory(source), "load_finetune_data: '", source,
              "' is neither a folder of class folders nor 'fashion-mnist'");
        auto tf = image_transform(pre, false);
        io::DatasetPtr train, eval;
        std::string eval_dir;
        for (const char* name : {"val", "test"})
            if (eval_dir.empty() && fs::is_directory(fs::path(source) / name)) eval_dir = (fs::path(source) / name).string();
        if (fs::is_directory(fs::path(source) / "train") && !eval_dir.empty()) {
            train = std::make_shared<io::ImageFolder>((fs::path(source) / "train").string());
            eval = std::make_shared<io::ImageFolder>(eval_dir);
            check(train->class_names() == eval->class_names(), "load_finetune_data: the class folders of ",
                  source, "/train and ", eval_dir, " differ");
        } else {
            auto all = std::make_shared<io::ImageFolder>(source);
            const auto& names = all->class_names();
            // Hold out eval_fraction of every class: a few-shot draw of the
            // smallest share per class would skew; take per-class counts instead.
            std::vector<std::vector<int64_t>> by_class(names.size());
            for (int64_t i = 0; i < all->size(); ++i) by_class[size_t(all->label(i))].push_back(i);
            Generator gen(o.seed);
            std::vector<int64_t> tr_idx, ev_idx;
            for (auto& items : by_class) {
                Tensor order = randperm(int64_t(items.size()), &gen);
                std::vector<int64_t> shuffled(items.size());
                for (size_t i = 0; i < items.size(); ++i) shuffled[i] = items[size_t(order.data<int64_t>()[i])];
                items = shuffled;
                size_t held = size_t(double(items.size()) * o.eval_fraction + 0.5);
                if (items.size() > 1 && held == 0) held = 1;
                for (size_t i = 0; i < items.size(); ++i) (i < held ? ev_idx : tr_idx).push_back(items[i]);
            }
            std::sort(tr_idx.begin(), tr_idx.end());
            std::sort(ev_idx.begin(), ev_idx.end());
            train = std::make_shared<io::Subset>(all, tr_idx);
            eval = std::make_shared<io::Subset>(all, ev_idx);
        }
        out.class_names = train->class_names();
        out.train = io::with_transform(maybe_few_shot(train, o), tf);
        out.eval = io::with_transform(first_n(eval, o.max_eval), tf);
        out.preprocessing = "image-folder " + describe(pre, false);
    }
    std::ostringstream d;
    d << source << ": " << out.train->size() << " train";
    if (o.shots > 0) d << " (" << o.shots << "/class)";
    d << ", " << out.eval->size() << " eval, " << out.class_names.size() << " classes, " << pre.crop << "x"
      << pre.crop << " RGB";
    out.description = d.str();
    return out;
}

}  // namespace graft::transfer
