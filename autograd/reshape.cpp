// y = x in a new shape;  dx = dy in x's shape
#include "autograd/reshape.hpp"

#include <string>

#include "autograd/broadcast.hpp"
#include "autograd/node.hpp"
#include "core/error.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

template <class T>
class ReshapeNode : public Node<T> {
 public:
  static constexpr const char* kOp = "reshape";

  void backward(const Tensor<T>& grad_output) override {
    Tensor<T> grad_input = grad_output;
    grad_input.reshape(this->input_value(0).shape());
    this->accumulate(0, std::move(grad_input));
  }
};

template <class T>
class FlattenNode : public ReshapeNode<T> {
 public:
  static constexpr const char* kOp = "flatten";
};

template <class T>
Tensor<T> reshaped_copy(const Tensor<T>& value, const TensorShape& shape) {
  Tensor<T> result = value;
  result.reshape(shape);
  return result;
}

}  // namespace

template <class T>
Variable<T> reshape(const Variable<T>& x, const std::vector<std::size_t>& shape) {
  // The product is checked as it grows, because a wrapped product could
  // match an empty x: [0] into [2^32, 2^32] would pass as 0 elements. Sizes
  // beyond kMaxTensorElements also overflow xtensor's strides.
  std::size_t count = 1;
  std::size_t nonzero_product = 1;
  for (const std::size_t size : shape) {
    if (size == 0) {
      count = 0;
      continue;
    }
    if (nonzero_product > kMaxTensorElements / size) {
      throw ShapeError("reshape: cannot reshape x, shaped " + format_shape(x.shape()) +
                       ", into " + format_shape(shape) +
                       ": the product of its nonzero sizes exceeds " +
                       std::to_string(kMaxTensorElements) +
                       ", the most elements a tensor can index");
    }
    nonzero_product *= size;
    count *= size;
  }
  if (count != x.value().size()) {
    throw ShapeError("reshape: cannot reshape x, shaped " + format_shape(x.shape()) + " (" +
                     std::to_string(x.value().size()) + " elements), into " +
                     format_shape(shape) + " (" + std::to_string(count) + " elements)");
  }
  const TensorShape new_shape(shape.begin(), shape.end());
  return record_op<ReshapeNode<T>>(reshaped_copy(x.value(), new_shape), {x});
}

template <class T>
Variable<T> flatten(const Variable<T>& x) {
  if (x.value().dimension() < 2) {
    throw ShapeError("flatten: x must have a batch dimension and at least one more, but it is "
                     "shaped " + format_shape(x.shape()));
  }
  // The product of the sizes after dimension 0, which stays right when the
  // batch is empty.
  const std::size_t batch_size = x.shape()[0];
  std::size_t rest_size = 1;
  for (std::size_t axis = 1; axis < x.value().dimension(); ++axis) rest_size *= x.shape()[axis];
  return record_op<FlattenNode<T>>(reshaped_copy(x.value(), TensorShape{batch_size, rest_size}),
                                   {x});
}

template Variable<float> reshape(const Variable<float>&, const std::vector<std::size_t>&);
template Variable<double> reshape(const Variable<double>&, const std::vector<std::size_t>&);
template Variable<float> flatten(const Variable<float>&);
template Variable<double> flatten(const Variable<double>&);

}  // namespace tapegrad
