// Softmax cross-entropy with class ids, forward and backward.
//
// Legend: B batch size, C classes, x logits [B, C], y class ids [B],
// g grad_output, m_b = max_c x_bc, S_b = sum_c exp(x_bc - m_b).
//
//   row loss    = log(S_b) - (x_{b, y_b} - m_b)
//   loss        = mean_b(row loss)
//   d loss / dx = g * (exp(x_bc - m_b) / S_b - [c == y_b]) / B
//
// The forms with options replace onehot(y_b) by the weighted, smoothed row
// q_bc = w_c * ((1 - eps) * [c == y_b] + eps / C), or 0 for an ignored
// sample, and reduce as options.reduction selects, the mean dividing by the
// summed w_{y_b} of the samples not ignored. losses/cross_entropy_options.hpp
// has the formulas.
#include "losses/sparse_softmax_cross_entropy.hpp"

#include <cassert>
#include <cmath>
#include <string>
#include <utility>

#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/kernels.hpp"
#include "core/tensor_pool.hpp"

namespace tapegrad {

using detail::ClassIds;

void detail::throw_labels_shape_error(const std::string& labels_shape, std::size_t labels_rank,
                                      std::size_t batch_size, const char* caller) {
  if (labels_rank != 1) {
    throw ShapeError(std::string(caller) + ": labels must be 1-D [batch], but their shape is " +
                     labels_shape);
  }
  throw ShapeError(std::string(caller) + ": labels are " + labels_shape + " but the logits have " +
                   std::to_string(batch_size) + " rows; pass one label per row");
}

void detail::throw_label_out_of_range(const std::string& label, std::size_t row,
                                      std::size_t num_classes, const char* caller) {
  throw ValueError(std::string(caller) + ": label " + label + " in row " + std::to_string(row) +
                   " is out of range [0, " + std::to_string(num_classes) + ")");
}

void detail::throw_fractional_label(const std::string& label, std::size_t row,
                                    std::size_t num_classes, const char* caller) {
  throw ValueError(std::string(caller) + ": label " + label + " in row " + std::to_string(row) +
                   " is not a whole number; labels are class ids in [0, " +
                   std::to_string(num_classes) + ")");
}

template <class T>
T detail::sparse_softmax_cross_entropy(const Tensor<T>& logits,
                                       const ClassIds& class_ids) {
  const char* caller = "sparse_softmax_cross_entropy";
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];
  assert(class_ids.size() == batch_size);

  // Each row loss is divided by B before it is added, in double, so the mean
  // stays finite even when the row losses are near the largest float.
  double mean = 0;
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = logits.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    assert(class_ids[b] < num_classes);

    const MaxSumExp<T> stats = row_max_sum_exp(logit_row, num_classes);
    const double shifted_label_logit =
        static_cast<double>(logit_row[class_ids[b]]) - static_cast<double>(stats.max);
    const double row_loss = std::log(static_cast<double>(stats.sum_exp)) - shifted_label_logit;
    mean += row_loss / static_cast<double>(batch_size);
  }
  return static_cast<T>(mean);
}

template <class T>
Tensor<T> detail::sparse_softmax_cross_entropy_backward(T grad_output,
                                                        const Tensor<T>& cached_logits,
                                                        const ClassIds& class_ids) {
  const char* caller = "sparse_softmax_cross_entropy_backward";
  const std::size_t batch_size = cached_logits.shape()[0];
  const std::size_t num_classes = cached_logits.shape()[1];
  assert(class_ids.size() == batch_size);

  // Every element is written below, so a pooled buffer needs no clearing.
  Tensor<T> grad_input = pooled_tensor<T>(cached_logits.shape());
  const T scale = grad_output / static_cast<T>(batch_size);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = cached_logits.data() + b * num_classes;
    T* grad_row = grad_input.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    const std::size_t label = class_ids[b];
    assert(label < num_classes);

    // The SIMD kernel writes scale · softmax into the gradient row, and the
    // label's column then subtracts scale · 1. A -inf logit has
    // exp(-inf) = 0, so away from the label its gradient is 0.
    row_scaled_softmax(logit_row, num_classes, scale, grad_row);
    grad_row[label] -= scale;
  }
  return grad_input;
}

namespace {

// The node caches the class ids. The logits are its input's value, which it
// keeps alive, so backward sees them exactly as the forward did.
template <class T>
class SparseSoftmaxCrossEntropyNode : public Node<T> {
 public:
  static constexpr const char* kOp = "sparse_softmax_cross_entropy";

  explicit SparseSoftmaxCrossEntropyNode(ClassIds class_ids)
      : class_ids_(std::move(class_ids)) {}

  void backward(const Tensor<T>& grad_output) override {
    const T grad_value = detail::grad_output_value(grad_output, kOp);
    this->accumulate(0, detail::sparse_softmax_cross_entropy_backward(
                            grad_value, this->input_value(0), class_ids_));
  }

 private:
  ClassIds class_ids_;
};

}  // namespace

template <class T>
Variable<T> detail::record_sparse_softmax_cross_entropy(const Variable<T>& logits, T loss,
                                                        ClassIds class_ids) {
  return record_op<SparseSoftmaxCrossEntropyNode<T>>(detail::scalar_tensor(loss), {logits},
                                                     std::move(class_ids));
}

template Variable<float> detail::record_sparse_softmax_cross_entropy(const Variable<float>&, float,
                                                                     ClassIds);
template Variable<double> detail::record_sparse_softmax_cross_entropy(const Variable<double>&,
                                                                      double,
                                                                      ClassIds);
template float detail::sparse_softmax_cross_entropy(const Tensor<float>&,
                                                    const ClassIds&);
template double detail::sparse_softmax_cross_entropy(const Tensor<double>&,
                                                     const ClassIds&);
template Tensor<float> detail::sparse_softmax_cross_entropy_backward(
    float, const Tensor<float>&, const ClassIds&);
template Tensor<double> detail::sparse_softmax_cross_entropy_backward(
    double, const Tensor<double>&, const ClassIds&);

// ---------------------------------------------------------------------------
// With options: reduction, class weights, ignore_index and label smoothing.

namespace {

// D, the mean's denominator: the sum of w_{y_b} over the samples that are
// not ignored, which is their count when no weights are given.
double labelled_weight_sum(const ClassIds& class_ids,
                           const CrossEntropyOptions& options) {
  double sum = 0;
  for (const std::size_t class_id : class_ids) {
    if (class_id == detail::kIgnoredClassId) continue;
    sum += options.class_weights.empty() ? 1.0 : options.class_weights[class_id];
  }
  return sum;
}

}  // namespace

template <class T>
Tensor<T> detail::sparse_softmax_cross_entropy(const Tensor<T>& logits,
                                               const ClassIds& class_ids,
                                               const CrossEntropyOptions& options) {
  const char* caller = "sparse_softmax_cross_entropy";
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];
  assert(class_ids.size() == batch_size);
  detail::check_cross_entropy_options(options, num_classes, caller);

  // Ignored samples keep their loss at 0, but their logits are still
  // checked: a NaN there is a bug upstream all the same.
  std::vector<double> q(num_classes);
  std::vector<double> losses(batch_size, 0.0);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = logits.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    if (class_ids[b] == detail::kIgnoredClassId) continue;
    assert(class_ids[b] < num_classes);

    detail::weighted_label(class_ids[b], options, num_classes, q.data());
    losses[b] = detail::weighted_row_loss(logit_row, q.data(), num_classes);
  }
  return detail::reduce_losses<T>(losses, options.reduction,
                                  labelled_weight_sum(class_ids, options));
}

template <class T>
Tensor<T> detail::sparse_softmax_cross_entropy_backward(const Tensor<T>& grad_output,
                                                        const Tensor<T>& cached_logits,
                                                        const ClassIds& class_ids,
                                                        const CrossEntropyOptions& options) {
  const char* caller = "sparse_softmax_cross_entropy_backward";
  const std::size_t batch_size = cached_logits.shape()[0];
  const std::size_t num_classes = cached_logits.shape()[1];
  assert(class_ids.size() == batch_size);
  detail::check_cross_entropy_options(options, num_classes, caller);
  const std::vector<double> scales =
      detail::gradient_scales(grad_output, options.reduction, batch_size,
                              labelled_weight_sum(class_ids, options), caller);

  Tensor<T> grad_input = xt::zeros<T>(cached_logits.shape());
  std::vector<double> q(num_classes);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = cached_logits.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    if (class_ids[b] == detail::kIgnoredClassId) continue;
    assert(class_ids[b] < num_classes);

    detail::weighted_label(class_ids[b], options, num_classes, q.data());
    detail::weighted_row_gradient(logit_row, q.data(), num_classes, scales[b],
                                  grad_input.data() + b * num_classes);
  }
  return grad_input;
}

namespace {

// As SparseSoftmaxCrossEntropyNode, and it also caches the options.
template <class T>
class SparseSoftmaxCrossEntropyWithOptionsNode : public Node<T> {
 public:
  static constexpr const char* kOp = "sparse_softmax_cross_entropy";

  SparseSoftmaxCrossEntropyWithOptionsNode(ClassIds class_ids,
                                           CrossEntropyOptions options)
      : class_ids_(std::move(class_ids)), options_(std::move(options)) {}

  void backward(const Tensor<T>& grad_output) override {
    this->accumulate(0, detail::sparse_softmax_cross_entropy_backward(
                            grad_output, this->input_value(0), class_ids_, options_));
  }

 private:
  ClassIds class_ids_;
  CrossEntropyOptions options_;
};

}  // namespace

template <class T>
Variable<T> detail::record_sparse_softmax_cross_entropy(const Variable<T>& logits, Tensor<T> loss,
                                                        ClassIds class_ids,
                                                        const CrossEntropyOptions& options) {
  return record_op<SparseSoftmaxCrossEntropyWithOptionsNode<T>>(std::move(loss), {logits},
                                                                std::move(class_ids), options);
}

#define TAPEGRAD_INSTANTIATE_SPARSE_CROSS_ENTROPY_OPTIONS(T)                                   \
  template Tensor<T> detail::sparse_softmax_cross_entropy(                                    \
      const Tensor<T>&, const ClassIds&, const CrossEntropyOptions&);         \
  template Tensor<T> detail::sparse_softmax_cross_entropy_backward(                           \
      const Tensor<T>&, const Tensor<T>&, const ClassIds&,                    \
      const CrossEntropyOptions&);                                                            \
  template Variable<T> detail::record_sparse_softmax_cross_entropy(                           \
      const Variable<T>&, Tensor<T>, ClassIds, const CrossEntropyOptions&);

TAPEGRAD_INSTANTIATE_SPARSE_CROSS_ENTROPY_OPTIONS(float)
TAPEGRAD_INSTANTIATE_SPARSE_CROSS_ENTROPY_OPTIONS(double)

}  // namespace tapegrad
