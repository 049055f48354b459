// Sigmoid cross-entropy, forward and backward.
//
// Legend: N number of elements, x logits, t targets in [0, 1], g grad_output.
//
//   element loss = max(x, 0) - x * t + log1p(exp(-|x|))
//                = |x| * (x >= 0 ? 1 - t : t) + log1p(exp(-|x|))
//   loss         = mean over N of the element loss
//   d loss / dx  = g * (sigmoid(x) - t) / N
#include "losses/sigmoid_cross_entropy.hpp"

#include <cmath>
#include <cstddef>
#include <limits>

#include "autograd/node.hpp"

namespace tapegrad {
namespace {

// The element loss in double, in the second form above: both terms are
// non-negative, so nothing cancels. A zero coefficient is skipped, because
// 0 * |x| is NaN for an infinite logit.
double element_loss(double logit, double target) {
  const double magnitude = std::abs(logit);
  const double coefficient = logit >= 0 ? 1 - target : target;
  const double linear_term = coefficient == 0 ? 0 : coefficient * magnitude;
  return linear_term + std::log1p(std::exp(-magnitude));
}

// sigmoid(x) without overflow: exp is only taken of -|x|.
template <class T>
T sigmoid(T logit) {
  if (logit >= 0) return T(1) / (T(1) + std::exp(-logit));
  const T exp_logit = std::exp(logit);
  return exp_logit / (T(1) + exp_logit);
}

template <class T>
void check_inputs(const Tensor<T>& logits, const Tensor<T>& targets, const char* caller) {
  constexpr T infinity = std::numeric_limits<T>::infinity();
  detail::check_same_shape(logits, "logits", targets, "targets", caller);
  detail::check_not_empty(logits, "logits", caller);
  detail::check_range(logits, -infinity, infinity, "logits", "must not be NaN", caller);
  detail::check_range(targets, T(0), T(1), "targets", "must be in [0, 1]", caller);
}

}  // namespace

template <class T>
T sigmoid_cross_entropy(const Tensor<T>& logits, const Tensor<T>& targets) {
  check_inputs(logits, targets, "sigmoid_cross_entropy");

  // Summed in double, so that a float sum of many element losses cannot
  // overflow or lose the small ones.
  const T* logit_values = logits.data();
  const T* target_values = targets.data();
  const std::size_t size = logits.size();
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i) sum += element_loss(logit_values[i], target_values[i]);
  return static_cast<T>(sum / static_cast<double>(size));
}

template <class T>
Tensor<T> detail::sigmoid_cross_entropy_backward(T grad_output, const Tensor<T>& cached_logits,
                                                 const Tensor<T>& targets) {
  check_inputs(cached_logits, targets, "sigmoid_cross_entropy_backward");

  Tensor<T> grad_input = Tensor<T>::from_shape(cached_logits.shape());
  const T* logit_values = cached_logits.data();
  const T* target_values = targets.data();
  T* grad_values = grad_input.data();
  const std::size_t size = cached_logits.size();
  const T scale = grad_output / static_cast<T>(size);
  for (std::size_t i = 0; i < size; ++i) {
    grad_values[i] = scale * (sigmoid(logit_values[i]) - target_values[i]);
  }
  return grad_input;
}

template float sigmoid_cross_entropy(const Tensor<float>&, const Tensor<float>&);
template double sigmoid_cross_entropy(const Tensor<double>&, const Tensor<double>&);
template Tensor<float> detail::sigmoid_cross_entropy_backward(float, const Tensor<float>&,
                                                              const Tensor<float>&);
template Tensor<double> detail::sigmoid_cross_entropy_backward(double, const Tensor<double>&,
                                                               const Tensor<double>&);

namespace {

// The node caches the targets. The logits are its input's value, which it
// keeps alive, so backward sees them exactly as the forward did.
template <class T>
class SigmoidCrossEntropyNode : public Node<T> {
 public:
  static constexpr const char* kOp = "sigmoid_cross_entropy";

  explicit SigmoidCrossEntropyNode(Tensor<T> targets) : targets_(std::move(targets)) {}

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, sigmoid_cross_entropy_backward(grad_output, this->input_value(0), targets_));
  }

 private:
  Tensor<T> targets_;
};

}  // namespace

template <class T>
Variable<T> sigmoid_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets) {
  const T loss = sigmoid_cross_entropy(logits.value(), targets);
  return record_op<SigmoidCrossEntropyNode<T>>(Tensor<T>(loss), {logits}, targets);
}

template Variable<float> sigmoid_cross_entropy(const Variable<float>&, const Tensor<float>&);
template Variable<double> sigmoid_cross_entropy(const Variable<double>&, const Tensor<double>&);

}  // namespace tapegrad
