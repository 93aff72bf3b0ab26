// Tensor: a cheap handle (one shared pointer) to a TensorImpl, which holds
//   storage  - a shared device buffer (core/storage.h),
//   layout   - sizes, strides and offset in elements (views share storage),
//   dtype,
//   autograd metadata - requires_grad, grad, grad_fn and the output slot.
// Copying a Tensor copies the handle, never the data; clone() copies data.
//
// The member functions below are the PyTorch-shaped surface; each forwards to a
// free function in core/ops/<family>.h, where the op checks its arguments,
// computes through a kernel and records its backward right beside the forward.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/storage.h"

namespace graft {

namespace autograd {
class Node;
struct AutogradMeta;
}  // namespace autograd

class Tensor;
using TensorHook = std::function<Tensor(const Tensor& grad)>;

struct TensorImpl {
    StoragePtr storage;
    Shape sizes;
    Strides strides;
    int64_t offset = 0;  // in elements
    DType dtype = DType::Float32;
    std::unique_ptr<autograd::AutogradMeta> autograd;  // null until autograd needs it

    TensorImpl();
    ~TensorImpl();
};

struct ValuesIndices;
struct TensorOptions;

class Tensor {
public:
    Tensor() = default;  // undefined: holds nothing
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // Allocates an uninitialised contiguous tensor.
    static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
    // A tensor over existing storage with the given layout (shares the storage).
    static Tensor from_storage(StoragePtr storage, Shape sizes, Strides strides, int64_t offset, DType dtype);

    bool defined() const { return impl_ != nullptr; }
    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

    // ---- layout -------------------------------------------------------------
    const Shape& shape() const { return checked()->sizes; }
    const Shape& sizes() const { return checked()->sizes; }
    const Strides& strides() const { return checked()->strides; }
    int64_t size(int64_t dim) const;    // negative dims count from the end
    int64_t stride(int64_t dim) const;
    int64_t dim() const { return int64_t(checked()->sizes.size()); }
    int64_t numel() const { return shape_numel(checked()->sizes); }
    int64_t offset() const { return checked()->offset; }
    DType dtype() const { return checked()->dtype; }
    Device device() const { return checked()->storage->device(); }
    const StoragePtr& storage() const { return checked()->storage; }
    bool is_contiguous() const { return graft::is_contiguous(checked()->sizes, checked()->strides); }
    size_t element_size() const { return graft::element_size(dtype()); }

    // Pointer to element [0, 0, ...] (storage base + offset). data<T>() checks T.
    void* raw_data() const;
    template <typename T> T* data() const {
        check(dtype_of<T>::value == dtype(), "Tensor::data", "requested ", dtype_name(dtype_of<T>::value),
              " but the tensor is ", dtype_name(dtype()));
        return static_cast<T*>(raw_data());
    }
    // The value of a one-element tensor (any device), converted to T.
    template <typename T> T item() const;
    double item_double() const;
    // All values, in row-major order, converted to T (copies; any layout).
    template <typename T> std::vector<T> to_vector() const;

    // ---- autograd -------------------------------------------------------------
    bool requires_grad() const;
    // Marks a leaf as needing a gradient (float dtypes only). Returns *this.
    const Tensor& requires_grad_(bool on = true) const;
    // The accumulated gradient of a leaf (undefined before the first backward).
    Tensor grad() const;
    void set_grad(const Tensor& grad) const;
    bool is_leaf() const;
    const std::shared_ptr<autograd::Node>& grad_fn() const;
    uint32_t output_nr() const;
    // Reverse-mode differentiation from this tensor. `grad` may be omitted for a
    // one-element tensor (it is then 1). Without retain_graph the graph's saved
    // tensors are freed and a second backward through it is an error.
    void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
    // Same data, cut from the graph (shares storage and the version counter).
    Tensor detach() const;
    // Runs `hook` on the gradient flowing into this tensor; a defined return
    // value replaces the gradient. Returns a handle usable with remove_hook.
    size_t register_hook(TensorHook hook) const;
    void remove_hook(size_t handle) const;
    // Keeps .grad() for a non-leaf after backward.
    void retain_grad() const;
    // Makes this tensor (and every handle sharing its TensorImpl, e.g. a Module's
    // registry entry and the layer's member) refer to `other`'s storage, layout and
    // dtype, keeping its autograd identity (requires_grad, grad). How modules move
    // to another device or dtype, and how a loader swaps in a differently shaped
    // head. Not recorded by autograd.
    void set_data(const Tensor& other) const;
    // Bumped by every in-place write to the storage (shared with views).
    uint64_t version() const { return storage()->version(); }

    // ---- conversion and copying ----------------------------------------------
    Tensor to(DType dtype) const;
    Tensor to(Device device) const;
    Tensor contiguous() const;  // self when already contiguous
    Tensor clone() const;       // always a fresh contiguous copy (differentiable)
    // Copies src into self (broadcasting src, converting dtype). In-place.
    const Tensor& copy_(const Tensor& src) const;

    // ---- views (share storage) -----------------------------------------------
    Tensor view(const Shape& shape) const;     // -1 infers one size; needs compatible strides
    Tensor reshape(const Shape& shape) const;  // a view when possible, a copy otherwise
    Tensor permute(const std::vector<int64_t>& dims) const;
    Tensor transpose(int64_t dim0, int64_t dim1) const;
    Tensor t() const;  // transpose of a 2-d tensor
    Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
    Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
    Tensor select(int64_t dim, int64_t index) const;
    Tensor expand(const Shape& shape) const;  // -1 keeps a size
    Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
    Tensor squeeze() const;
    Tensor squeeze(int64_t dim) const;
    Tensor unsqueeze(int64_t dim) const;
    Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

    // ---- indexing ------------------------------------------------------------
    Tensor index_select(int64_t dim, const Tensor& index) const;
    Tensor gather(int64_t dim, const Tensor& index) const;
    Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
    Tensor masked_fill(const Tensor& mask, Scalar value) const;
    std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
    std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;

    // ---- elementwise ----------------------------------------------------------
    Tensor add(const Tensor& other, Scalar alpha = 1) const;
    Tensor sub(const Tensor& other, Scalar alpha = 1) const;
    Tensor mul(const Tensor& other) const;
    Tensor div(const Tensor& other) const;
    Tensor pow(const Tensor& exponent) const;
    Tensor pow(Scalar exponent) const;
    Tensor maximum(const Tensor& other) const;
    Tensor minimum(const Tensor& other) const;
    Tensor neg() const;
    Tensor exp() const;
    Tensor log() const;
    Tensor log1p() const;
    Tensor sqrt() const;
    Tensor rsqrt() const;
    Tensor abs() const;
    Tensor sign() const;
    Tensor clamp(std::optional<double> min, std::optional<double> max) const;
    Tensor relu() const;
    Tensor sigmoid() const;
    Tensor tanh() const;

    // In place: write into self's storage (bumps the version counter).
    const Tensor& add_(const Tensor& other, Scalar alpha = 1) const;
    const Tensor& sub_(const Tensor& other, Scalar alpha = 1) const;
    const Tensor& mul_(const Tensor& other) const;
    const Tensor& div_(const Tensor& other) const;
    const Tensor& add_(Scalar other) const;
    const Tensor& mul_(Scalar other) const;
    const Tensor& zero_() const;
    const Tensor& fill_(Scalar value) const;

    // ---- reductions -------------------------------------------------------------
    // `dims` empty means every dimension.
    Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
    Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
    Tensor max() const;
    Tensor min() const;
    ValuesIndices max(int64_t dim, bool keepdim = false) const;
    ValuesIndices min(int64_t dim, bool keepdim = false) const;
    Tensor argmax(int64_t dim, bool keepdim = false) const;
    Tensor matmul(const Tensor& other) const;

    // PyTorch-style text: values (summarised when large), shape, dtype, device.
    std::string str() const;

private:
    TensorImpl* checked() const {
        if (!impl_) [[unlikely]]
            throw Error("Tensor: use of an undefined tensor");
        return impl_.get();
    }
    std::shared_ptr<TensorImpl> impl_;
};

struct ValuesIndices {
    Tensor values;
    Tensor indices;  // int64
};

// Arithmetic operators, as in PyTorch. Comparisons return bool tensors.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(Scalar a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, Scalar b);
Tensor operator<=(const Tensor& a, Scalar b);
Tensor operator>(const Tensor& a, Scalar b);
Tensor operator>=(const Tensor& a, Scalar b);
Tensor operator==(const Tensor& a, Scalar b);
Tensor operator!=(const Tensor& a, Scalar b);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// "float32[2, 3]" (plus the device when not cpu): the way error messages
// describe a tensor. Like shape_str, it formats only when streamed or converted
// to std::string, so check(cond, "op", describe(t)) is free when cond holds.
struct TensorText {
    Tensor tensor;
    operator std::string() const;
};
std::ostream& operator<<(std::ostream& os, const TensorText& text);
inline TensorText describe(const Tensor& t) { return TensorText{t}; }
inline std::string operator+(std::string lhs, const TensorText& rhs) { return lhs + std::string(rhs); }
inline std::string operator+(const TensorText& lhs, const std::string& rhs) { return std::string(lhs) + rhs; }

}  // namespace graft
