// Module: the unit models are built from, named the way PyTorch names them.
//
// A Module owns named parameters, buffers and child modules. Registration
// happens in the constructor, in declaration order, so that
// named_parameters() yields exactly PyTorch's dotted names for the same
// architecture ("layer1.0.conv1.weight") and a PyTorch state_dict loads by name:
//
//   class Block : public nn::Module {
//   public:
//       Block(int64_t c) : Module("Block") {
//           conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(c, c, 3));
//           bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(c));
//       }
//       Tensor forward(const Tensor& x) override { return relu((*bn1)((*conv1)(x))); }
//       std::shared_ptr<nn::Conv2d> conv1;
//       std::shared_ptr<nn::BatchNorm2d> bn1;
//   };
//
// Parameters and buffers are Tensor handles shared between the registry and the
// layer's members; to(device), to(dtype) and loading rewrite them in place
// (Tensor::set_data / copy_), so a layer's `weight` member never goes stale.
// Plain C++ classes and shared pointers; no macros.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/named_tensors.h"
#include "core/tensor.h"

namespace graft::nn {

// What load_state_dict did, key by key. Collects every problem instead of
// stopping at the first.
struct LoadReport {
    struct Mismatch {
        std::string name;
        Shape expected;  // the module's
        Shape got;       // the file's
    };
    std::vector<std::string> loaded;
    std::vector<std::string> missing;     // in the module, absent from the source
    std::vector<std::string> unexpected;  // in the source, absent from the module
    std::vector<Mismatch> mismatched;     // present in both with different shapes
    // True when nothing is missing, unexpected or mismatched.
    bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
    // A printable table: one line per problem plus counts.
    std::string table() const;
};

class Module : public std::enable_shared_from_this<Module> {
public:
    using ForwardPreHook = std::function<Tensor(Module& module, const Tensor& input)>;
    using ForwardHook = std::function<Tensor(Module& module, const Tensor& input, const Tensor& output)>;

    explicit Module(std::string type_name);
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    // The computation. Modules with several inputs add their own overloads;
    // this single-tensor form is what Sequential and hooks use.
    virtual Tensor forward(const Tensor& input);
    // forward() wrapped in the forward pre-hooks and hooks.
    Tensor operator()(const Tensor& input);

    // "Conv2d", "ResNet", ...: the class name, as PyTorch prints it.
    const std::string& type_name() const { return type_name_; }
    // The constructor arguments as PyTorch prints them ("3, 64, kernel_size=(7, 7)").
    virtual std::string extra_repr() const { return ""; }

    // ---- registration (from constructors) ------------------------------------------
    Tensor register_parameter(const std::string& name, const Tensor& value, bool requires_grad = true);
    // Buffers are state that is not trained (BatchNorm's running statistics).
    // Non-persistent buffers are left out of state_dict().
    Tensor register_buffer(const std::string& name, const Tensor& value, bool persistent = true);
    template <typename M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
        add_child(name, module);
        return module;
    }
    // Swaps the child `name` (head surgery); the new module takes its place in order.
    void replace_module(const std::string& name, std::shared_ptr<Module> module);

    // ---- access ------------------------------------------------------------------------
    std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
    std::vector<Tensor> parameters(bool recurse = true) const;
    std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
    // This module ("" or `prefix`) and every descendant, depth first, with dotted names.
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules(const std::string& prefix = "");
    // The descendant at a dotted path ("layer1.0.conv1"); throws Error naming the
    // path and the children that do exist if absent.
    std::shared_ptr<Module> submodule(const std::string& path);
    // A direct parameter or buffer of this module by name (throws if absent).
    Tensor tensor(const std::string& name) const;
    int64_t num_parameters(bool trainable_only = false) const;

    // ---- state ----------------------------------------------------------------------------
    // Parameters and persistent buffers, detached, in registration order.
    NamedTensors state_dict() const;
    // Copies matching tensors in (converting dtype); reports every missing,
    // unexpected or shape-mismatched key. With `strict`, throws an Error
    // carrying report.table() when the report is not ok (after loading nothing).
    LoadReport load_state_dict(const NamedTensors& source, bool strict = true);

    // ---- mode, device, utilities ----------------------------------------------------------
    // Sets training mode here and below. Modules override on_train_mode to react.
    // A pinned module (pin_mode) keeps its pinned mode; its children still get `on`.
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }
    // Pins this module's own mode: while pinned, train()/eval() on it or on any
    // ancestor leave it in `training` (children are not pinned by this and
    // still follow the call). nullopt unpins and returns to the mode last asked
    // for by train()/eval(). Why: fine-tuning freezes part of a model, and a frozen
    // BatchNorm must keep normalising with its running statistics (and a frozen
    // Dropout stay off) through every model.train() of the training loop; PyTorch
    // leaves this to user code that must re-apply it after each train()
    // (pytorch/pytorch#66073, #9046). transfer::freeze sets these pins.
    void pin_mode(std::optional<bool> training);
    std::optional<bool> pinned_mode() const { return pinned_; }
    void to(Device device);
    void to(DType dtype);  // floating parameters and buffers only
    // Calls fn on this module and every descendant (pre-order).
    void apply(const std::function<void(Module&)>& fn);
    void zero_grad();

    // A printable tree in PyTorch's format, each line with its parameter count
    // and whether it trains ("frozen" when none of its parameters require grad).
    std::string str() const;

    // ---- hooks and taps -------------------------------------------------------------------
    // Pre-hooks may replace the input, hooks the output (return an undefined
    // Tensor to keep it). Returns a handle for remove_hook.
    size_t register_forward_pre_hook(ForwardPreHook hook);
    size_t register_forward_hook(ForwardHook hook);
    void remove_hook(size_t handle);

protected:
    // Called by train() and pin_mode() on this module with its new mode.
    virtual void on_train_mode(bool /*training*/) {}
    void set_training_flag(bool on) {
        requested_training_ = on;
        training_ = pinned_.value_or(on);
    }

private:
    struct Slot {
        std::string name;
        Tensor tensor;
        bool persistent = true;
    };
    void add_child(const std::string& name, std::shared_ptr<Module> module);
    void check_new_name(const std::string& name, const char* what) const;
    void collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
                            bool recurse) const;
    void collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out, bool recurse,
                         bool persistent_only) const;
    std::string str_indented(int indent) const;

    std::string type_name_;
    std::vector<Slot> parameters_;
    std::vector<Slot> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    std::vector<std::pair<size_t, ForwardPreHook>> pre_hooks_;
    std::vector<std::pair<size_t, ForwardHook>> hooks_;
    bool training_ = true;
    bool requested_training_ = true;  // what train()/eval() last asked for; training_ unless pinned
    std::optional<bool> pinned_;
};

// Records the outputs of named submodules during forward, without rewriting
// forward: `Taps taps(model, {"layer3", "avgpool"}); model(x); taps["layer3"]`.
// The hooks are removed when the Taps object dies.
class Taps {
public:
    Taps(Module& root, const std::vector<std::string>& paths);
    ~Taps();
    Taps(const Taps&) = delete;
    Taps& operator=(const Taps&) = delete;
    // The last output seen at `path` (throws if none was recorded yet).
    const Tensor& operator[](const std::string& path) const;
    void clear();

private:
    std::vector<std::pair<std::shared_ptr<Module>, size_t>> hooks_;
    std::shared_ptr<std::map<std::string, Tensor>> seen_;
};

}  // namespace graft::nn
