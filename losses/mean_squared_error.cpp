// Mean squared error, forward and backward.
//
// Legend: N number of elements, p predictions, t targets, g grad_output.
//
//   loss        = mean over N of (p - t)^2
//   d loss / dp = g * 2 * (p - t) / N
#include "losses/mean_squared_error.hpp"

#include <cstddef>
#include <limits>

#include "autograd/node.hpp"

namespace tapegrad {
namespace {

template <class T>
void check_inputs(const Tensor<T>& predictions, const Tensor<T>& targets, const char* caller) {
  constexpr T max = std::numeric_limits<T>::max();
  detail::check_same_shape(predictions, "predictions", targets, "targets", caller);
  detail::check_not_empty(predictions, "predictions", caller);
  detail::check_range(predictions, -max, max, "predictions", "must be finite", caller);
  detail::check_range(targets, -max, max, "targets", "must be finite", caller);
}

}  // namespace

template <class T>
T mean_squared_error(const Tensor<T>& predictions, const Tensor<T>& targets) {
  check_inputs(predictions, targets, "mean_squared_error");

  // Differences and squares are taken in double, so float inputs near the
  // largest float neither overflow nor lose precision.
  const T* prediction_values = predictions.data();
  const T* target_values = targets.data();
  const std::size_t size = predictions.size();
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const double difference =
        static_cast<double>(prediction_values[i]) - static_cast<double>(target_values[i]);
    sum += difference * difference;
  }
  return static_cast<T>(sum / static_cast<double>(size));
}

template <class T>
Tensor<T> detail::mean_squared_error_backward(T grad_output, const Tensor<T>& predictions,
                                              const Tensor<T>& targets) {
  check_inputs(predictions, targets, "mean_squared_error_backward");

  Tensor<T> grad_input = Tensor<T>::from_shape(predictions.shape());
  const T* prediction_values = predictions.data();
  const T* target_values = targets.data();
  T* grad_values = grad_input.data();
  const std::size_t size = predictions.size();
  const double scale = 2.0 * static_cast<double>(grad_output) / static_cast<double>(size);
  for (std::size_t i = 0; i < size; ++i) {
    const double difference =
        static_cast<double>(prediction_values[i]) - static_cast<double>(target_values[i]);
    grad_values[i] = static_cast<T>(scale * difference);
  }
  return grad_input;
}

template float mean_squared_error(const Tensor<float>&, const Tensor<float>&);
template double mean_squared_error(const Tensor<double>&, const Tensor<double>&);
template Tensor<float> detail::mean_squared_error_backward(float, const Tensor<float>&,
                                                           const Tensor<float>&);
template Tensor<double> detail::mean_squared_error_backward(double, const Tensor<double>&,
                                                            const Tensor<double>&);

namespace {

// The node caches the targets. The predictions are its input's value, which it
// keeps alive, so backward sees them exactly as the forward did.
template <class T>
class MeanSquaredErrorNode : public Node<T> {
 public:
  static constexpr const char* kOp = "mean_squared_error";

  explicit MeanSquaredErrorNode(Tensor<T> targets) : targets_(std::move(targets)) {}

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, mean_squared_error_backward(grad_output, this->input_value(0), targets_));
  }

 private:
  Tensor<T> targets_;
};

}  // namespace

template <class T>
Variable<T> mean_squared_error(const Variable<T>& predictions, const Tensor<T>& targets) {
  const T loss = mean_squared_error(predictions.value(), targets);
  return record_op<MeanSquaredErrorNode<T>>(Tensor<T>(loss), {predictions}, targets);
}

template Variable<float> mean_squared_error(const Variable<float>&, const Tensor<float>&);
template Variable<double> mean_squared_error(const Variable<double>&, const Tensor<double>&);

}  // namespace tapegrad
