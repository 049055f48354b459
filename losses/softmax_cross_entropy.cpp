// Softmax cross-entropy with dense targets, forward and backward.
//
// Legend: B batch size, C classes, x logits [B, C], t targets [B, C],
// g grad_output, m_b = max_c x_bc, S_b = sum_c exp(x_bc - m_b).
//
//   row loss    = log(S_b) * sum_c t_bc - sum_c t_bc * (x_bc - m_b)
//   loss        = mean_b(row loss)
//   d loss / dx = g * (exp(x_bc - m_b) / S_b * sum_c t_bc - t_bc) / B
//
// The forms with options replace t_b by the weighted, smoothed row
// q_bc = w_c * ((1 - eps) * t_bc + eps / C) and reduce as options.reduction
// selects. losses/cross_entropy_options.hpp has the formulas.
#include "losses/softmax_cross_entropy.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/kernels.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {
namespace {

// Returns the loss of one row in double. Terms with target 0 are skipped,
// because 0 * (-inf - m) would be NaN where the logit is -inf.
template <class T>
double row_loss(const T* logits, const T* targets, std::size_t num_classes) {
  const MaxSumExp<T> stats = row_max_sum_exp(logits, num_classes);
  const double max = stats.max;

  double target_sum = 0;
  double weighted_shifted_logits = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    if (targets[c] == T(0)) continue;
    target_sum += targets[c];
    weighted_shifted_logits += targets[c] * (logits[c] - max);
  }
  return std::log(static_cast<double>(stats.sum_exp)) * target_sum - weighted_shifted_logits;
}

}  // namespace

template <class T>
T softmax_cross_entropy(const Tensor<T>& logits, const Tensor<T>& targets) {
  const char* caller = "softmax_cross_entropy";
  detail::check_logits_shape(logits, caller);
  detail::check_same_shape(targets, "targets", logits, "logits", caller);
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];

  // Each row loss is divided by B before it is added, in double, so the mean
  // stays finite even when the row losses are near the largest float.
  double mean = 0;
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = logits.data() + b * num_classes;
    const T* target_row = targets.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    detail::check_targets_row(target_row, b, num_classes, caller);

    mean += row_loss(logit_row, target_row, num_classes) / static_cast<double>(batch_size);
  }
  return static_cast<T>(mean);
}

template <class T>
Tensor<T> detail::softmax_cross_entropy_backward(T grad_output, const Tensor<T>& cached_logits,
                                                 const Tensor<T>& targets) {
  const char* caller = "softmax_cross_entropy_backward";
  detail::check_logits_shape(cached_logits, caller);
  detail::check_same_shape(targets, "targets", cached_logits, "logits", caller);
  const std::size_t batch_size = cached_logits.shape()[0];
  const std::size_t num_classes = cached_logits.shape()[1];

  // Every element is written below, so a pooled buffer needs no clearing.
  Tensor<T> grad_input = pooled_tensor<T>(cached_logits.shape());
  const T scale = grad_output / static_cast<T>(batch_size);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = cached_logits.data() + b * num_classes;
    const T* target_row = targets.data() + b * num_classes;
    T* grad_row = grad_input.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    detail::check_targets_row(target_row, b, num_classes, caller);

    T target_sum = 0;
    for (std::size_t c = 0; c < num_classes; ++c) target_sum += target_row[c];

    // The SIMD kernel writes scale · target_sum · softmax into the gradient
    // row, and scale · target is then subtracted. A -inf logit has
    // exp(-inf) = 0, so with target 0 its gradient is exactly 0.
    row_scaled_softmax(logit_row, num_classes, scale * target_sum, grad_row);
    for (std::size_t c = 0; c < num_classes; ++c) grad_row[c] -= scale * target_row[c];
  }
  return grad_input;
}

template float softmax_cross_entropy(const Tensor<float>&, const Tensor<float>&);
template double softmax_cross_entropy(const Tensor<double>&, const Tensor<double>&);
template Tensor<float> detail::softmax_cross_entropy_backward(float, const Tensor<float>&,
                                                              const Tensor<float>&);
template Tensor<double> detail::softmax_cross_entropy_backward(double, const Tensor<double>&,
                                                               const Tensor<double>&);

namespace {

// The node caches the targets. The logits are its input's value, which it
// keeps alive, so backward sees them exactly as the forward did.
template <class T>
class SoftmaxCrossEntropyNode : public Node<T> {
 public:
  static constexpr const char* kOp = "softmax_cross_entropy";

  explicit SoftmaxCrossEntropyNode(Tensor<T> targets) : targets_(std::move(targets)) {}

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, softmax_cross_entropy_backward(grad_output, this->input_value(0), targets_));
  }

 private:
  Tensor<T> targets_;
};

}  // namespace

template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets) {
  const T loss = softmax_cross_entropy(logits.value(), targets);
  return record_op<SoftmaxCrossEntropyNode<T>>(detail::scalar_tensor(loss), {logits}, targets);
}

template Variable<float> softmax_cross_entropy(const Variable<float>&, const Tensor<float>&);
template Variable<double> softmax_cross_entropy(const Variable<double>&, const Tensor<double>&);

// ---------------------------------------------------------------------------
// With options: reduction, class weights and label smoothing.

namespace {

// Throws as check_cross_entropy_options does, and ValueError for a set
// ignore_index, because a row of probabilities has no label to compare.
void check_dense_options(const CrossEntropyOptions& options, std::size_t num_classes,
                         const char* caller) {
  if (options.ignore_index) {
    throw ValueError(std::string(caller) + ": ignore_index is " +
                     std::to_string(*options.ignore_index) +
                     ", but it applies only to class labels; leave it unset for dense targets, "
                     "or use sparse_softmax_cross_entropy");
  }
  detail::check_cross_entropy_options(options, num_classes, caller);
}

}  // namespace

template <class T>
Tensor<T> softmax_cross_entropy(const Tensor<T>& logits, const Tensor<T>& targets,
                                const CrossEntropyOptions& options) {
  const char* caller = "softmax_cross_entropy";
  detail::check_logits_shape(logits, caller);
  detail::check_same_shape(targets, "targets", logits, "logits", caller);
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];
  check_dense_options(options, num_classes, caller);

  std::vector<double> q(num_classes);
  std::vector<double> losses(batch_size);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = logits.data() + b * num_classes;
    const T* target_row = targets.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    detail::check_targets_row(target_row, b, num_classes, caller);

    detail::weighted_targets(target_row, options, num_classes, q.data());
    losses[b] = detail::weighted_row_loss(logit_row, q.data(), num_classes);
  }

  // For probability targets PyTorch's mean divides by B, whatever the weights.
  return detail::reduce_losses<T>(losses, options.reduction, static_cast<double>(batch_size));
}

template <class T>
Tensor<T> softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                         const Tensor<T>& cached_logits,
                                         const Tensor<T>& targets,
                                         const CrossEntropyOptions& options) {
  const char* caller = "softmax_cross_entropy_backward";
  detail::check_logits_shape(cached_logits, caller);
  detail::check_same_shape(targets, "targets", cached_logits, "logits", caller);
  const std::size_t batch_size = cached_logits.shape()[0];
  const std::size_t num_classes = cached_logits.shape()[1];
  check_dense_options(options, num_classes, caller);
  const std::vector<double> scales = detail::gradient_scales(
      grad_output, options.reduction, batch_size, static_cast<double>(batch_size), caller);

  // Every element is written below, so a pooled buffer needs no clearing.
  Tensor<T> grad_input = pooled_tensor<T>(cached_logits.shape());
  std::vector<double> q(num_classes);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = cached_logits.data() + b * num_classes;
    const T* target_row = targets.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    detail::check_targets_row(target_row, b, num_classes, caller);

    detail::weighted_targets(target_row, options, num_classes, q.data());
    detail::weighted_row_gradient(logit_row, q.data(), num_classes, scales[b],
                                  grad_input.data() + b * num_classes);
  }
  return grad_input;
}

namespace {

// As SoftmaxCrossEntropyNode, and it also caches the options.
template <class T>
class SoftmaxCrossEntropyWithOptionsNode : public Node<T> {
 public:
  static constexpr const char* kOp = "softmax_cross_entropy";

  SoftmaxCrossEntropyWithOptionsNode(Tensor<T> targets, CrossEntropyOptions options)
      : targets_(std::move(targets)), options_(std::move(options)) {}

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, softmax_cross_entropy_backward(grad_output, this->input_value(0), targets_,
                                                       options_));
  }

 private:
  Tensor<T> targets_;
  CrossEntropyOptions options_;
};

}  // namespace

template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const Tensor<T>& targets,
                                  const CrossEntropyOptions& options) {
  Tensor<T> loss = softmax_cross_entropy(logits.value(), targets, options);
  return record_op<SoftmaxCrossEntropyWithOptionsNode<T>>(std::move(loss), {logits}, targets,
                                                          options);
}

#define TAPEGRAD_INSTANTIATE_SOFTMAX_CROSS_ENTROPY_OPTIONS(T)                                  \
  template Tensor<T> softmax_cross_entropy(const Tensor<T>&, const Tensor<T>&,                \
                                           const CrossEntropyOptions&);                       \
  template Tensor<T> softmax_cross_entropy_backward(const Tensor<T>&, const Tensor<T>&,       \
                                                    const Tensor<T>&,                         \
                                                    const CrossEntropyOptions&);              \
  template Variable<T> softmax_cross_entropy(const Variable<T>&, const Tensor<T>&,            \
                                             const CrossEntropyOptions&);

TAPEGRAD_INSTANTIATE_SOFTMAX_CROSS_ENTROPY_OPTIONS(float)
TAPEGRAD_INSTANTIATE_SOFTMAX_CROSS_ENTROPY_OPTIONS(double)

}  // namespace tapegrad
