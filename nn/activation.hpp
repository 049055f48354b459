// Activation modules, Flatten and Identity: parameter-free layers that apply
// one autograd op, so a Sequential can hold them.
#pragma once

#include "autograd/activation.hpp"
#include "autograd/reshape.hpp"
#include "nn/module.hpp"

namespace tapegrad {

// y = max(x, 0)
template <class T = float>
class ReLU : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& input) override { return relu(input); }
};

// y = 1 / (1 + exp(-x))
template <class T = float>
class Sigmoid : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& input) override { return sigmoid(input); }
};

// y = tanh(x)
template <class T = float>
class Tanh : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& input) override { return tanh(input); }
};

// [batch_size, d1, d2, ...] -> [batch_size, d1 · d2 · ...], as torch.nn.Flatten.
template <class T = float>
class Flatten : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& input) override { return flatten(input); }
};

}  // namespace tapegrad
