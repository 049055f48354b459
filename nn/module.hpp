// Module: the base of every layer and of networks built from layers.
//
// A module has a forward() and owns parameters and child modules, which it
// registers so that parameters() can list them all in a stable order:
// its own parameters in registration order, then each child's, prefixed by
// the child's name. Sequential names its children "0", "1", ..., so the
// names match PyTorch's state_dict keys ("0.weight", "0.bias", "2.weight")
// and checkpoints move between the two unchanged. Registration rejects a
// name that contains '.' or that the module already uses, so every dotted
// name is unique.
//
// Parameters are Variables, which are handles: a module and an optimizer
// that lists its parameters share the same tensors.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"

namespace tapegrad {

template <class T>
struct NamedParameter {
  std::string name;
  Variable<T> parameter;
};

template <class T = float>
class Module {
 public:
  using value_type = T;

  Module() = default;
  virtual ~Module() = default;

  // Copying would silently share parameters between the copies; modules are
  // moved instead.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) noexcept = default;
  Module& operator=(Module&&) noexcept = default;

  virtual Variable<T> forward(const Variable<T>& input) = 0;

  Variable<T> operator()(const Variable<T>& input) { return forward(input); }

  // Every parameter of this module and its children, with its dotted name,
  // in a stable order. Frozen parameters are included (optimizers skip them).
  std::vector<NamedParameter<T>> named_parameters() const {
    std::vector<NamedParameter<T>> result;
    append_named_parameters("", result);
    return result;
  }

  // Every parameter once, in the order of named_parameters(). A child that a
  // module registers at two places appears there under both names, but here
  // only at its first, as in PyTorch, so that an optimizer built from this
  // list updates each parameter once per step.
  std::vector<Variable<T>> parameters() const {
    std::vector<Variable<T>> result;
    for (const NamedParameter<T>& named : named_parameters()) {
      const bool seen = std::any_of(result.begin(), result.end(), [&](const Variable<T>& listed) {
        return listed.id() == named.parameter.id();
      });
      if (!seen) result.push_back(named.parameter);
    }
    return result;
  }

  // Switches this module and its children between training mode (dropout
  // active) and evaluation mode.
  void train(bool training = true) {
    training_ = training;
    for (auto& child : children_) child.second->train(training);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad() {
    for (const NamedParameter<T>& named : named_parameters()) {
      Variable<T> parameter = named.parameter;
      parameter.zero_grad();
    }
  }

 protected:
  // Registers a parameter (a leaf that requires grad) and returns it.
  // Throws ValueError, naming `name`, if it contains '.' or another parameter
  // or child of this module has it, because checkpoints store each parameter
  // under its dotted name, which must be unique.
  Variable<T> register_parameter(std::string name, Tensor<T> value) {
    check_new_name(name, "Module::register_parameter");
    Variable<T> parameter(std::move(value), /*requires_grad=*/true);
    parameters_.push_back({std::move(name), parameter});
    return parameter;
  }

  // Registers a child module, whose parameters follow this module's under
  // "<name>.". Throws ValueError, naming `name`, for a null child, and for a
  // name that register_parameter would reject.
  void register_module(std::string name, std::shared_ptr<Module<T>> child) {
    if (!child) {
      throw ValueError("Module::register_module: the child '" + name +
                       "' is null; pass a module made with std::make_shared");
    }
    check_new_name(name, "Module::register_module");
    child->train(training_);
    children_.emplace_back(std::move(name), std::move(child));
  }

  const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& children() const {
    return children_;
  }

 private:
  void check_new_name(const std::string& name, const char* caller) const {
    if (name.find('.') != std::string::npos) {
      throw ValueError(std::string(caller) + ": the name '" + name +
                       "' contains '.', which separates the names of nested modules; use a "
                       "name without '.'");
    }
    bool in_use = false;
    for (const NamedParameter<T>& named : parameters_) in_use = in_use || named.name == name;
    for (const auto& child : children_) in_use = in_use || child.first == name;
    if (in_use) {
      throw ValueError(std::string(caller) + ": the name '" + name +
                       "' is already registered in this module; give each parameter and child "
                       "its own name");
    }
  }

  void append_named_parameters(const std::string& prefix,
                               std::vector<NamedParameter<T>>& result) const {
    for (const NamedParameter<T>& named : parameters_) {
      result.push_back({prefix + named.name, named.parameter});
    }
    for (const auto& [name, child] : children_) {
      child->append_named_parameters(prefix + name + ".", result);
    }
  }

  std::vector<NamedParameter<T>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
  bool training_ = true;
};

}  // namespace tapegrad
