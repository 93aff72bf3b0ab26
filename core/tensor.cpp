// Tensor's own state and the forwarding of its PyTorch-shaped methods to the ops.
#include "core/tensor.h"

#include <atomic>
#include <ostream>

#include "core/autograd/engine.h"
#include "core/autograd/node.h"
#include "core/autograd/record.h"
#include "core/ops/activation.h"
#include "core/ops/binary.h"
#include "core/ops/convert.h"
#include "core/ops/creation.h"
#include "core/ops/indexing.h"
#include "core/ops/join.h"
#include "core/ops/matmul.h"
#include "core/ops/reduction.h"
#include "core/ops/unary.h"
#include "core/ops/views.h"

namespace graft {

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
    for (int64_t s : shape)
        check(s >= 0, "empty", "negative size in shape ", shape_str(shape));
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = Storage::allocate(size_t(shape_numel(shape)) * graft::element_size(dtype), device);
    impl->sizes = shape;
    impl->strides = contiguous_strides(shape);
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

Tensor Tensor::from_storage(StoragePtr storage, Shape sizes, Strides strides, int64_t offset, DType dtype) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::move(storage);
    impl->sizes = std::move(sizes);
    impl->strides = std::move(strides);
    impl->offset = offset;
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[size_t(wrap_dim(d, dim(), "Tensor::size"))]; }
int64_t Tensor::stride(int64_t d) const { return strides()[size_t(wrap_dim(d, dim(), "Tensor::stride"))]; }

void* Tensor::raw_data() const {
    const TensorImpl* impl = checked();
    return static_cast<char*>(impl->storage->data()) + impl->offset * int64_t(graft::element_size(impl->dtype));
}

double Tensor::item_double() const {
    check(numel() == 1, "item", "expected a tensor with one element, got ", describe(*this));
    Tensor host = device().is_cpu() ? *this : to(Device::cpu());
    return visit_dtype(host.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        return double(static_cast<T*>(host.raw_data())[0]);
    });
}

template <typename T>
T Tensor::item() const {
    if constexpr (std::is_same_v<T, int64_t>) {
        if (dtype() == DType::Int64 && device().is_cpu()) {
            check(numel() == 1, "item", "expected a tensor with one element, got ", describe(*this));
            return *static_cast<int64_t*>(raw_data());
        }
    }
    return T(item_double());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
    Tensor c = to(Device::cpu()).to(dtype_of<T>::value).contiguous();
    const T* p = c.data<T>();
    return std::vector<T>(p, p + c.numel());
}

template float Tensor::item<float>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template double Tensor::item<double>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template int64_t Tensor::item<int64_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template int32_t Tensor::item<int32_t>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template uint8_t Tensor::item<uint8_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
template bool Tensor::item<bool>() const;

// ---- autograd ---------------------------------------------------------------

bool Tensor::requires_grad() const {
    const TensorImpl* impl = checked();
    return impl->autograd && (impl->autograd->requires_grad || impl->autograd->grad_fn);
}

const Tensor& Tensor::requires_grad_(bool on) const {
    auto& meta = autograd::meta_of(*this);
    check(!meta.grad_fn || on, "requires_grad_", "cannot turn off requires_grad on a non-leaf tensor (",
          describe(*this), "); use detach()");
    check(!on || is_floating(dtype()), "requires_grad_",
          "only floating-point tensors can require gradients, got ", describe(*this));
    if (!meta.grad_fn) meta.requires_grad = on;
    return *this;
}

Tensor Tensor::grad() const {
    const TensorImpl* impl = checked();
    return impl->autograd ? impl->autograd->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
    if (grad.defined())
        check(grad.shape() == shape(), "set_grad", "gradient ", describe(grad), " does not match ", describe(*this));
    autograd::meta_of(*this).grad = grad;
}

bool Tensor::is_leaf() const {
    const TensorImpl* impl = checked();
    return !impl->autograd || !impl->autograd->grad_fn;
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
    static const std::shared_ptr<autograd::Node> none;
    const TensorImpl* impl = checked();
    return impl->autograd ? impl->autograd->grad_fn : none;
}

uint32_t Tensor::output_nr() const {
    const TensorImpl* impl = checked();
    return impl->autograd ? impl->autograd->output_nr : 0;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
    autograd::run_backward({*this}, {grad}, retain_graph);
}

void Tensor::set_data(const Tensor& other) const {
    TensorImpl* impl = checked();
    check(other.defined(), "set_data", "the new data is an undefined tensor");
    check(!(impl->autograd && impl->autograd->requires_grad) || is_floating(other.dtype()), "set_data",
          "a tensor that requires grad cannot take data of dtype ", dtype_name(other.dtype()));
    impl->storage = other.storage();
    impl->sizes = other.shape();
    impl->strides = other.strides();
    impl->offset = other.offset();
    impl->dtype = other.dtype();
    if (impl->autograd && impl->autograd->grad.defined() && impl->autograd->grad.shape() != impl->sizes)
        impl->autograd->grad = Tensor();
}

Tensor Tensor::detach() const {
    const TensorImpl* impl = checked();
    return from_storage(impl->storage, impl->sizes, impl->strides, impl->offset, impl->dtype);
}

namespace {
size_t next_hook_handle() {
    static std::atomic<size_t> next{1};
    return next.fetch_add(1);
}
}  // namespace

size_t Tensor::register_hook(TensorHook hook) const {
    check(requires_grad(), "register_hook", "cannot register a hook on a tensor that does not require grad (",
          describe(*this), ")");
    const size_t handle = next_hook_handle();
    auto& meta = autograd::meta_of(*this);
    if (meta.grad_fn) meta.grad_fn->pre_hooks[meta.output_nr].emplace_back(handle, std::move(hook));
    else meta.leaf_hooks.emplace_back(handle, std::move(hook));
    return handle;
}

void Tensor::remove_hook(size_t handle) const {
    auto& meta = autograd::meta_of(*this);
    auto erase_from = [handle](std::vector<std::pair<size_t, TensorHook>>& hooks) {
        std::erase_if(hooks, [handle](const auto& h) { return h.first == handle; });
    };
    if (meta.grad_fn) erase_from(meta.grad_fn->pre_hooks[meta.output_nr]);
    else erase_from(meta.leaf_hooks);
}

void Tensor::retain_grad() const {
    check(requires_grad(), "retain_grad", "cannot retain the gradient of a tensor that does not require grad");
    auto& meta = autograd::meta_of(*this);
    if (!meta.grad_fn || meta.retains_grad) return;
    meta.retains_grad = true;
    std::weak_ptr<TensorImpl> weak = impl_ptr();
    meta.grad_fn->pre_hooks[meta.output_nr].emplace_back(0, [weak](const Tensor& g) {
        if (auto impl = weak.lock()) {
            auto& m = *impl->autograd;
            m.grad = m.grad.defined() ? graft::add(m.grad, g) : g.clone();
        }
        return Tensor();
    });
}

// ---- forwarding ---------------------------------------------------------------

Tensor Tensor::to(DType d) const { return to_dtype(*this, d); }
Tensor Tensor::to(Device d) const { return to_device(*this, d); }
Tensor Tensor::contiguous() const { return graft::contiguous(*this); }
Tensor Tensor::clone() const { return graft::clone(*this); }
const Tensor& Tensor::copy_(const Tensor& src) const { return graft::copy_(*this, src); }

Tensor Tensor::view(const Shape& s) const { return graft::view(*this, s); }
Tensor Tensor::reshape(const Shape& s) const { return graft::reshape(*this, s); }
Tensor Tensor::permute(const std::vector<int64_t>& dims) const { return graft::permute(*this, dims); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return graft::transpose(*this, d0, d1); }
Tensor Tensor::t() const {
    check(dim() == 2, "t", "expected a 2-d tensor, got ", describe(*this));
    return graft::transpose(*this, 0, 1);
}
Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const { return graft::narrow(*this, d, start, length); }
Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
    return graft::slice(*this, d, start, end, step);
}
Tensor Tensor::select(int64_t d, int64_t index) const { return graft::select(*this, d, index); }
Tensor Tensor::expand(const Shape& s) const { return graft::expand(*this, s); }
Tensor Tensor::squeeze() const { return graft::squeeze(*this); }
Tensor Tensor::squeeze(int64_t d) const { return graft::squeeze(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return graft::unsqueeze(*this, d); }
Tensor Tensor::flatten(int64_t start, int64_t end) const { return graft::flatten(*this, start, end); }

Tensor Tensor::index_select(int64_t d, const Tensor& index) const { return graft::index_select(*this, d, index); }
Tensor Tensor::gather(int64_t d, const Tensor& index) const { return graft::gather(*this, d, index); }
Tensor Tensor::scatter_add(int64_t d, const Tensor& index, const Tensor& src) const {
    return graft::scatter_add(*this, d, index, src);
}
Tensor Tensor::masked_fill(const Tensor& mask, Scalar value) const { return graft::masked_fill(*this, mask, value); }
std::vector<Tensor> Tensor::split(int64_t split_size, int64_t d) const { return graft::split(*this, split_size, d); }
std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t d) const { return graft::chunk(*this, chunks, d); }

Tensor Tensor::add(const Tensor& o, Scalar alpha) const { return graft::add(*this, o, alpha); }
Tensor Tensor::sub(const Tensor& o, Scalar alpha) const { return graft::sub(*this, o, alpha); }
Tensor Tensor::mul(const Tensor& o) const { return graft::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return graft::div(*this, o); }
Tensor Tensor::pow(const Tensor& e) const { return graft::pow(*this, e); }
Tensor Tensor::pow(Scalar e) const { return graft::pow(*this, e); }
Tensor Tensor::maximum(const Tensor& o) const { return graft::maximum(*this, o); }
Tensor Tensor::minimum(const Tensor& o) const { return graft::minimum(*this, o); }
Tensor Tensor::neg() const { return graft::neg(*this); }
Tensor Tensor::exp() const { return graft::exp(*this); }
Tensor Tensor::log() const { return graft::log(*this); }
Tensor Tensor::log1p() const { return graft::log1p(*this); }
Tensor Tensor::sqrt() const { return graft::sqrt(*this); }
Tensor Tensor::rsqrt() const { return graft::rsqrt(*this); }
Tensor Tensor::abs() const { return graft::abs(*this); }
Tensor Tensor::sign() const { return graft::sign(*this); }
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const { return graft::clamp(*this, lo, hi); }
Tensor Tensor::relu() const { return graft::relu(*this); }
Tensor Tensor::sigmoid() const { return graft::sigmoid(*this); }
Tensor Tensor::tanh() const { return graft::tanh(*this); }

const Tensor& Tensor::add_(const Tensor& o, Scalar alpha) const { return graft::add_(*this, o, alpha); }
const Tensor& Tensor::sub_(const Tensor& o, Scalar alpha) const { return graft::sub_(*this, o, alpha); }
const Tensor& Tensor::mul_(const Tensor& o) const { return graft::mul_(*this, o); }
const Tensor& Tensor::div_(const Tensor& o) const { return graft::div_(*this, o); }
const Tensor& Tensor::add_(Scalar o) const { return graft::add_(*this, o); }
const Tensor& Tensor::mul_(Scalar o) const { return graft::mul_(*this, o); }
const Tensor& Tensor::zero_() const { return fill_(0); }
const Tensor& Tensor::fill_(Scalar value) const {
    autograd::check_inplace(*this, "fill_");
    return graft::copy_(*this, scalar_tensor(value, dtype(), device()));
}

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const { return graft::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const { return graft::mean(*this, dims, keepdim); }
Tensor Tensor::max() const { return graft::max(*this); }
Tensor Tensor::min() const { return graft::min(*this); }
ValuesIndices Tensor::max(int64_t d, bool keepdim) const { return graft::max(*this, d, keepdim); }
ValuesIndices Tensor::min(int64_t d, bool keepdim) const { return graft::min(*this, d, keepdim); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return graft::argmax(*this, d, keepdim); }
Tensor Tensor::matmul(const Tensor& o) const { return graft::matmul(*this, o); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
Tensor operator+(Scalar a, const Tensor& b) { return add(b, a); }
Tensor operator-(Scalar a, const Tensor& b) { return rsub(b, a); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a); }
Tensor operator/(Scalar a, const Tensor& b) { return rdiv(b, a); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }
Tensor operator==(const Tensor& a, Scalar b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, b); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

std::ostream& operator<<(std::ostream& os, const TensorText& text) { return os << std::string(text); }

TensorText::operator std::string() const {
    const Tensor& t = tensor;
    if (!t.defined()) return "undefined tensor";
    std::string s = cat_str(dtype_name(t.dtype()), shape_str(t.shape()));
    if (!t.device().is_cpu()) s += " " + t.device().str();
    return s;
}

}  // namespace graft
