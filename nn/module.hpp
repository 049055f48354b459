// Module: the base of every layer and of networks built from layers.
//
// A module has a forward() and owns parameters and child modules, which it
// registers so that parameters() can list them all in a stable order:
// its own parameters in registration order, then each child's, prefixed by
// the child's name. Sequential names its children "0", "1", ..., so the
// names match PyTorch's state_dict keys ("0.weight", "0.bias", "2.weight")
// and checkpoints move between the two unchanged.
//
// Parameters are Variables, which are handles: a module and an optimizer
// that lists its parameters share the same tensors.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.hpp"
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

  std::vector<Variable<T>> parameters() const {
    std::vector<Variable<T>> result;
    for (const NamedParameter<T>& named : named_parameters()) result.push_back(named.parameter);
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
  Variable<T> register_parameter(std::string name, Tensor<T> value) {
    Variable<T> parameter(std::move(value), /*requires_grad=*/true);
    parameters_.push_back({std::move(name), parameter});
    return parameter;
  }

  void register_module(std::string name, std::shared_ptr<Module<T>> child) {
    child->train(training_);
    children_.emplace_back(std::move(name), std::move(child));
  }

  const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& children() const {
    return children_;
  }

 private:
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
