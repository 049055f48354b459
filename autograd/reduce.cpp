// Legend: x is the input, y the output, dy = grad_output, n the number of
// elements that make up each output element.
//
//   y = sum(x);   dx = dy,     repeated over the n elements summed
//   y = mean(x);  dx = dy / n, repeated likewise
//
// Backward reshapes dy to the "kept" shape, the output's with every reduced
// axis present as size 1, and broadcasts it back over x's shape.
#include "autograd/reduce.hpp"

#include <numeric>
#include <string>
#include <utility>

#include <xtensor/xbroadcast.hpp>

#include "autograd/broadcast.hpp"
#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

template <class T>
class ReduceNode : public Node<T> {
 public:
  ReduceNode(TensorShape kept_shape, T scale) : kept_shape_(std::move(kept_shape)), scale_(scale) {}

  void backward(const Tensor<T>& grad_output) override {
    Tensor<T> grad_kept = grad_output;
    grad_kept.reshape(kept_shape_);
    const TensorShape& input_shape = this->input_value(0).shape();
    this->accumulate(0, Tensor<T>(xt::broadcast(grad_kept, input_shape) * scale_));
  }

 private:
  TensorShape kept_shape_;
  T scale_;  // 1 for a sum, 1 / n for a mean
};

template <class T>
class SumNode : public ReduceNode<T> {
 public:
  static constexpr const char* kOp = "sum";
  using ReduceNode<T>::ReduceNode;
};

template <class T>
class MeanNode : public ReduceNode<T> {
 public:
  static constexpr const char* kOp = "mean";
  using ReduceNode<T>::ReduceNode;
};

// Returns `axis` counted from the front, or throws ShapeError.
std::size_t normalize_axis(const char* op, std::ptrdiff_t axis, const TensorShape& shape) {
  const auto rank = static_cast<std::ptrdiff_t>(shape.size());
  if (axis >= -rank && axis < rank) return static_cast<std::size_t>(axis < 0 ? axis + rank : axis);

  const std::string valid = rank == 0 ? "a 0-D tensor has no axes, so reduce it without one"
                                      : "valid axes are " + std::to_string(-rank) + " to " +
                                            std::to_string(rank - 1);
  throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) +
                   " is out of range for x of rank " + std::to_string(rank) + ", shaped " +
                   format_shape(shape) + "; " + valid);
}

// The sum of all elements, accumulated in double.
template <class T>
double total(const Tensor<T>& x) {
  return std::accumulate(x.data(), x.data() + x.size(), 0.0);
}

template <class T>
TensorShape all_ones_shape(const Variable<T>& x) {
  return TensorShape(x.value().dimension(), 1);
}

// The shape of a reduction over `axis`: without the axis, or with size 1.
TensorShape reduced_shape(const TensorShape& shape, std::size_t axis, bool keepdims) {
  TensorShape result = shape;
  if (keepdims) {
    result[axis] = 1;
  } else {
    result.erase(result.begin() + static_cast<std::ptrdiff_t>(axis));
  }
  return result;
}

}  // namespace

template <class T>
Variable<T> sum(const Variable<T>& x) {
  Tensor<T> result(static_cast<T>(total(x.value())));
  return record_op<SumNode<T>>(std::move(result), {x}, all_ones_shape(x), T(1));
}

template <class T>
Variable<T> mean(const Variable<T>& x) {
  const std::size_t count = x.value().size();
  if (count == 0) {
    throw ValueError("mean: x is empty, shaped " + format_shape(x.shape()) +
                     ", so its mean is undefined");
  }
  Tensor<T> result(static_cast<T>(total(x.value()) / static_cast<double>(count)));
  return record_op<MeanNode<T>>(std::move(result), {x}, all_ones_shape(x),
                                static_cast<T>(1.0 / static_cast<double>(count)));
}

template <class T>
Variable<T> sum(const Variable<T>& x, std::ptrdiff_t axis, bool keepdims) {
  const std::size_t index = normalize_axis("sum", axis, x.shape());

  Tensor<T> result = sum_over_axis(x.value(), index);
  const TensorShape kept_shape = result.shape();
  result.reshape(reduced_shape(x.shape(), index, keepdims));
  return record_op<SumNode<T>>(std::move(result), {x}, kept_shape, T(1));
}

template <class T>
Variable<T> mean(const Variable<T>& x, std::ptrdiff_t axis, bool keepdims) {
  const std::size_t index = normalize_axis("mean", axis, x.shape());
  const std::size_t length = x.shape()[index];
  if (length == 0) {
    throw ValueError("mean: axis " + std::to_string(axis) + " of x, shaped " +
                     format_shape(x.shape()) + ", has size 0, so the mean over it is undefined");
  }

  Tensor<T> result = sum_over_axis(x.value(), index);
  result /= static_cast<T>(length);
  const TensorShape kept_shape = result.shape();
  result.reshape(reduced_shape(x.shape(), index, keepdims));
  const T scale = static_cast<T>(1.0 / static_cast<double>(length));
  return record_op<MeanNode<T>>(std::move(result), {x}, kept_shape, scale);
}

template Variable<float> sum(const Variable<float>&);
template Variable<double> sum(const Variable<double>&);
template Variable<float> mean(const Variable<float>&);
template Variable<double> mean(const Variable<double>&);
template Variable<float> sum(const Variable<float>&, std::ptrdiff_t, bool);
template Variable<double> sum(const Variable<double>&, std::ptrdiff_t, bool);
template Variable<float> mean(const Variable<float>&, std::ptrdiff_t, bool);
template Variable<double> mean(const Variable<double>&, std::ptrdiff_t, bool);

}  // namespace tapegrad
