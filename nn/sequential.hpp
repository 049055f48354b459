// Sequential: modules applied one after another, as torch.nn.Sequential.
//
//   Sequential model(Linear(784, 256), ReLU(), Linear(256, 10));
//
// Children are named by position, counting every module, so the parameters
// above are "0.weight", "0.bias", "2.weight", "2.bias", as in PyTorch.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "nn/module.hpp"

namespace tapegrad {

template <class T = float>
class Sequential : public Module<T> {
 public:
  Sequential() = default;

  // Takes modules by value (moved in), in order.
  template <class... Modules>
    requires(sizeof...(Modules) > 0 &&
             (std::is_base_of_v<Module<T>, std::decay_t<Modules>> && ...))
  explicit Sequential(Modules&&... modules) {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  // Appends a module, moved in.
  template <class M>
    requires std::is_base_of_v<Module<T>, std::decay_t<M>>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module<T>>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }

  // Appends a module that the caller may keep a handle to.
  void push_back(std::shared_ptr<Module<T>> module) {
    if (!module) throw ValueError("Sequential::push_back: the module is null");
    layers_.push_back(module);
    this->register_module(std::to_string(layers_.size() - 1), std::move(module));
  }

  Variable<T> forward(const Variable<T>& input) override {
    Variable<T> output = input;
    for (const auto& layer : layers_) output = layer->forward(output);
    return output;
  }

  std::size_t size() const { return layers_.size(); }

  // The layer at `index`; throws ValueError past the end.
  Module<T>& operator[](std::size_t index) const {
    if (index >= layers_.size()) {
      throw ValueError("Sequential: index " + std::to_string(index) + " is out of range for " +
                       std::to_string(layers_.size()) + " layers");
    }
    return *layers_[index];
  }

 private:
  std::vector<std::shared_ptr<Module<T>>> layers_;
};

// Lets `Sequential model(Linear(4, 3), ReLU())` deduce T from the first module.
template <class First, class... Rest>
Sequential(First&&, Rest&&...) -> Sequential<typename std::decay_t<First>::value_type>;

}  // namespace tapegrad
