#include "nn/module.h"

#include <atomic>
#include <map>
#include <sstream>

#include "core/autograd/grad_mode.h"
#include "core/ops/convert.h"

namespace graft::nn {

namespace {

size_t next_hook_handle() {
    static std::atomic<size_t> next{1};
    return next.fetch_add(1);
}

std::string join_name(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
}

}  // namespace

std::string LoadReport::table() const {
    std::ostringstream os;
    os << "loaded " << loaded.size() << ", missing " << missing.size() << ", unexpected " << unexpected.size()
       << ", mismatched " << mismatched.size() << "\n";
    for (const auto& name : missing) os << "  missing     " << name << "\n";
    for (const auto& name : unexpected) os << "  unexpected  " << name << "\n";
    for (const auto& m : mismatched)
        os << "  mismatched  " << m.name << ": model " << shape_str(m.expected) << ", source " << shape_str(m.got)
           << "\n";
    return os.str();
}

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Tensor Module::forward(const Tensor&) {
    throw Error(cat_str(type_name_, ": this module has no single-tensor forward; call its own forward overload"));
}

Tensor Module::operator()(const Tensor& input) {
    if (pre_hooks_.empty() && hooks_.empty()) return forward(input);
    Tensor x = input;
    for (auto& [handle, hook] : pre_hooks_) {
        Tensor replaced = hook(*this, x);
        if (replaced.defined()) x = replaced;
    }
    Tensor out = forward(x);
    for (auto& [handle, hook] : hooks_) {
        Tensor replaced = hook(*this, x, out);
        if (replaced.defined()) out = replaced;
    }
    return out;
}

void Module::check_new_name(const std::string& name, const char* what) const {
    check(!name.empty() && name.find('.') == std::string::npos, type_name_.c_str(), "invalid ", what, " name '",
          name, "' (names are non-empty and contain no '.')");
    auto taken = [&](const std::string& n) {
        for (const Slot& s : parameters_) if (s.name == n) return true;
        for (const Slot& s : buffers_) if (s.name == n) return true;
        for (const auto& c : children_) if (c.first == n) return true;
        return false;
    };
    check(!taken(name), type_name_.c_str(), "the name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, const Tensor& value, bool requires_grad) {
    check_new_name(name, "parameter");
    check(value.defined(), type_name_.c_str(), "parameter '", name, "' is an undefined tensor");
    Tensor p = value.is_leaf() ? value : value.detach();
    if (requires_grad) p.requires_grad_(true);
    parameters_.push_back({name, p, true});
    return p;
}

Tensor Module::register_buffer(const std::string& name, const Tensor& value, bool persistent) {
    check_new_name(name, "buffer");
    buffers_.push_back({name, value, persistent});
    return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
    check_new_name(name, "module");
    check(module != nullptr, type_name_.c_str(), "child module '", name, "' is null");
    children_.emplace_back(name, std::move(module));
}

void Module::replace_module(const std::string& name, std::shared_ptr<Module> module) {
    check(module != nullptr, type_name_.c_str(), "replacement for child '", name, "' is null");
    for (auto& [n, child] : children_) {
        if (n == name) {
            child = std::move(module);
            return;
        }
    }
    throw Error(cat_str(type_name_, ": no child module named '", name, "' to replace"));
}

void Module::collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
                                bool recurse) const {
    for (const Slot& s : parameters_) out.emplace_back(join_name(prefix, s.name), s.tensor);
    if (!recurse) return;
    for (const auto& [name, child] : children_) child->collect_parameters(join_name(prefix, name), out, true);
}

void Module::collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
                             bool recurse, bool persistent_only) const {
    for (const Slot& s : buffers_)
        if (s.tensor.defined() && (s.persistent || !persistent_only)) out.emplace_back(join_name(prefix, s.name), s.tensor);
    if (!recurse) return;
    for (const auto& [name, child] : children_)
        child->collect_buffers(join_name(prefix, name), out, true, persistent_only);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect_parameters("", out, recurse);
    return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect_buffers("", out, recurse, false);
    return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules(const std::string& prefix) {
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
    out.emplace_back(prefix, shared_from_this());
    for (auto& [name, child] : children_) {
        auto sub = child->named_modules(join_name(prefix, name));
        out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
}

std::shared_ptr<Module> Module::submodule(const std::string& path) {
    std::shared_ptr<Module> current = shared_from_this();
    size_t start = 0;
    while (start <= path.size() && !path.empty()) {
        const size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        std::shared_ptr<Module> next;
        std::string names;
        for (auto& [n, child] : current->children_) {
            if (n == part) next = child;
            names += (names.empty() ? "" : ", ") + n;
        }
        check(next != nullptr, "submodule", "no module '", part, "' in '", path, "' (", current->type_name_,
              " has: ", names.empty() ? "no children" : names, ")");
        current = next;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return current;
}

Tensor Module::tensor(const std::string& name) const {
    for (const Slot& s : parameters_) if (s.name == name) return s.tensor;
    for (const Slot& s : buffers_) if (s.name == name) return s.tensor;
    throw Error(cat_str(type_name_, ": no parameter or buffer named '", name, "'"));
}

int64_t Module::num_parameters(bool trainable_only) const {
    int64_t n = 0;
    for (auto& [name, t] : named_parameters())
        if (!trainable_only || t.requires_grad()) n += t.numel();
    return n;
}

NamedTensors Module::state_dict() const {
    NamedTensors out;
    std::vector<std::pair<std::string, Tensor>> entries;
    // PyTorch's order: each module's parameters then its buffers, then children.
    std::function<void(const Module&, const std::string&)> walk = [&](const Module& m, const std::string& prefix) {
        for (const Slot& s : m.parameters_) out.set(join_name(prefix, s.name), s.tensor.detach());
        for (const Slot& s : m.buffers_)
            if (s.persistent && s.tensor.defined()) out.set(join_name(prefix, s.name), s.tensor.detach());
        for (const auto& [name, child] : m.children_) walk(*child, join_name(prefix, name));
    };
    walk(*this, "");
    return out;
}

LoadReport Module::load_state_dict(const NamedTensors& source, bool strict) {
    LoadReport report;
    const NamedTensors own = state_dict();
    for (const auto& [name, t] : own) {
        const Tensor* src = source.find(name);
        if (!src) report.missing.push_back(name);
        else if (src->shape() != t.shape()) report.mismatched.push_back({name, t.shape(), src->shape()});
    }
    for (const auto& [name, t] : source)
        if (!own.contains(name)) report.unexpected.push_back(name);
    if (strict && !report.ok())
        throw Error(cat_str("load_state_dict (", type_name_, "): the source does not match the model\n", report.table()));
    NoGradGuard no_grad;
    for (const auto& [name, t] : own) {
        const Tensor* src = source.find(name);
        if (!src || src->shape() != t.shape()) continue;
        Tensor value = src->device() == t.device() ? *src : src->to(t.device());
        t.copy_(value);  // converts dtype; t shares storage with the registered tensor
        report.loaded.push_back(name);
    }
    return report;
}

void Module::train(bool on) {
    requested_training_ = on;
    training_ = pinned_.value_or(on);
    on_train_mode(training_);
    for (auto& [name, child] : children_) child->train(on);
}

void Module::pin_mode(std::optional<bool> training) {
    pinned_ = training;
    const bool mode = pinned_.value_or(requested_training_);
    if (mode == training_) return;
    training_ = mode;
    on_train_mode(mode);
}

void Module::to(Device device) {
    NoGradGuard no_grad;
    apply([&](Module& m) {
        for (Slot& s : m.parameters_) if (s.tensor.device() != device) s.tensor.set_data(s.tensor.to(device));
        for (Slot& s : m.buffers_)
            if (s.tensor.defined() && s.tensor.device() != device) s.tensor.set_data(s.tensor.to(device));
    });
}

void Module::to(DType dtype) {
    NoGradGuard no_grad;
    apply([&](Module& m) {
        for (Slot& s : m.parameters_)
            if (is_floating(s.tensor.dtype()) && s.tensor.dtype() != dtype) s.tensor.set_data(s.tensor.to(dtype));
        for (Slot& s : m.buffers_)
            if (s.tensor.defined() && is_floating(s.tensor.dtype()) && s.tensor.dtype() != dtype)
                s.tensor.set_data(s.tensor.to(dtype));
    });
}

void Module::apply(const std::function<void(Module&)>& fn) {
    fn(*this);
    for (auto& [name, child] : children_) child->apply(fn);
}

void Module::zero_grad() {
    for (auto& [name, p] : named_parameters()) p.set_grad(Tensor());
}

std::string Module::str() const { return str_indented(0); }

std::string Module::str_indented(int indent) const {
    int64_t total = 0, trainable = 0;
    for (auto& [name, p] : named_parameters()) {
        total += p.numel();
        if (p.requires_grad()) trainable += p.numel();
    }
    std::string head = type_name_ + "(" + extra_repr();
    std::string note;
    if (total > 0)
        note = cat_str("  # ", total, " params", trainable == 0 ? ", frozen" : trainable < total ? ", partly frozen" : "");
    if (children_.empty()) return head + ")" + note;
    std::string out = head + note + "\n";
    const std::string pad(size_t(indent + 2), ' ');
    for (const auto& [name, child] : children_) out += pad + "(" + name + "): " + child->str_indented(indent + 2) + "\n";
    return out + std::string(size_t(indent), ' ') + ")";
}

size_t Module::register_forward_pre_hook(ForwardPreHook hook) {
    const size_t handle = next_hook_handle();
    pre_hooks_.emplace_back(handle, std::move(hook));
    return handle;
}

size_t Module::register_forward_hook(ForwardHook hook) {
    const size_t handle = next_hook_handle();
    hooks_.emplace_back(handle, std::move(hook));
    return handle;
}

void Module::remove_hook(size_t handle) {
    std::erase_if(pre_hooks_, [&](const auto& h) { return h.first == handle; });
    std::erase_if(hooks_, [&](const auto& h) { return h.first == handle; });
}

Taps::Taps(Module& root, const std::vector<std::string>& paths)
    : seen_(std::make_shared<std::map<std::string, Tensor>>()) {
    for (const std::string& path : paths) {
        std::shared_ptr<Module> m = root.submodule(path);
        auto seen = seen_;
        const size_t handle = m->register_forward_hook([seen, path](Module&, const Tensor&, const Tensor& out) {
            (*seen)[path] = out;
            return Tensor();
        });
        hooks_.emplace_back(m, handle);
    }
}

Taps::~Taps() {
    for (auto& [m, handle] : hooks_) m->remove_hook(handle);
}

const Tensor& Taps::operator[](const std::string& path) const {
    auto it = seen_->find(path);
    check(it != seen_->end(), "Taps", "nothing recorded at '", path, "' yet (run a forward pass first)");
    return it->second;
}

void Taps::clear() { seen_->clear(); }

}  // namespace graft::nn
