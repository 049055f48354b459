// Softmax cross-entropy with class ids, forward and backward.
//
// Legend: B batch size, C classes, x logits [B, C], y class ids [B],
// g grad_output, m_b = max_c x_bc, S_b = sum_c exp(x_bc - m_b).
//
//   row loss    = log(S_b) - (x_{b, y_b} - m_b)
//   loss        = mean_b(row loss)
//   d loss / dx = g * (exp(x_bc - m_b) / S_b - [c == y_b]) / B
#include "losses/sparse_softmax_cross_entropy.hpp"

#include <cassert>
#include <cmath>
#include <string>

#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/kernels.hpp"

namespace tapegrad {

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
                                       const std::vector<std::size_t>& class_ids) {
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
                                                        const std::vector<std::size_t>& class_ids) {
  const char* caller = "sparse_softmax_cross_entropy_backward";
  const std::size_t batch_size = cached_logits.shape()[0];
  const std::size_t num_classes = cached_logits.shape()[1];
  assert(class_ids.size() == batch_size);

  Tensor<T> grad_input = Tensor<T>::from_shape(cached_logits.shape());
  const T scale = grad_output / static_cast<T>(batch_size);
  for (std::size_t b = 0; b < batch_size; ++b) {
    const T* logit_row = cached_logits.data() + b * num_classes;
    T* grad_row = grad_input.data() + b * num_classes;
    detail::check_logits_row(logit_row, b, num_classes, caller);
    const std::size_t label = class_ids[b];
    assert(label < num_classes);

    // One pass writes the gradient; the softmax is never stored. A -inf
    // logit has exp(-inf) = 0, so away from the label its gradient is 0.
    const MaxSumExp<T> stats = row_max_sum_exp(logit_row, num_classes);
    const T inverse_sum = T(1) / stats.sum_exp;
    for (std::size_t c = 0; c < num_classes; ++c) {
      const T prob = std::exp(logit_row[c] - stats.max) * inverse_sum;
      grad_row[c] = scale * (c == label ? prob - T(1) : prob);
    }
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

  explicit SparseSoftmaxCrossEntropyNode(std::vector<std::size_t> class_ids)
      : class_ids_(std::move(class_ids)) {}

  void backward(const Tensor<T>& grad_output) override {
    const T grad_value = detail::grad_output_value(grad_output, kOp);
    this->accumulate(0, detail::sparse_softmax_cross_entropy_backward(
                            grad_value, this->input_value(0), class_ids_));
  }

 private:
  std::vector<std::size_t> class_ids_;
};

}  // namespace

template <class T>
Variable<T> detail::record_sparse_softmax_cross_entropy(const Variable<T>& logits, T loss,
                                                        std::vector<std::size_t> class_ids) {
  return record_op<SparseSoftmaxCrossEntropyNode<T>>(Tensor<T>(loss), {logits},
                                                     std::move(class_ids));
}

template Variable<float> detail::record_sparse_softmax_cross_entropy(const Variable<float>&, float,
                                                                     std::vector<std::size_t>);
template Variable<double> detail::record_sparse_softmax_cross_entropy(const Variable<double>&,
                                                                      double,
                                                                      std::vector<std::size_t>);
template float detail::sparse_softmax_cross_entropy(const Tensor<float>&,
                                                    const std::vector<std::size_t>&);
template double detail::sparse_softmax_cross_entropy(const Tensor<double>&,
                                                     const std::vector<std::size_t>&);
template Tensor<float> detail::sparse_softmax_cross_entropy_backward(
    float, const Tensor<float>&, const std::vector<std::size_t>&);
template Tensor<double> detail::sparse_softmax_cross_entropy_backward(
    double, const Tensor<double>&, const std::vector<std::size_t>&);

}  // namespace tapegrad
