// matmul, transpose and linear: values by hand, gradients by gradcheck,
// float against double, one node per linear, shape errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "tests/autograd_checks.hpp"

using namespace tapegrad;
using autograd_checks::check_float_matches_double;
using autograd_checks::check_gradients;

namespace {

using Inputs = std::vector<Variable<double>>;

}  // namespace

TEST_CASE("matmul by hand") {
  // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[1·5 + 2·7, 1·6 + 2·8], [3·5 + 4·7, 3·6 + 4·8]]
  const Variable<double> a(Tensor<double>{{1, 2}, {3, 4}}, true);
  const Variable<double> b(Tensor<double>{{5, 6}, {7, 8}}, true);
  const Variable<double> y = matmul(a, b);
  CHECK(y.value() == Tensor<double>{{19, 22}, {43, 50}});

  // With dy all ones: da = dy · bᵀ has each row [5 + 6, 7 + 8] = [11, 15],
  // and db = aᵀ · dy has each column [1 + 3, 2 + 4] = [4, 6].
  sum(y).backward();
  CHECK(a.grad() == Tensor<double>{{11, 15}, {11, 15}});
  CHECK(b.grad() == Tensor<double>{{4, 4}, {6, 6}});
}

TEST_CASE("transpose by hand") {
  const Variable<double> x(Tensor<double>{{1, 2, 3}, {4, 5, 6}}, true);
  const Variable<double> y = transpose(x);
  CHECK(y.value() == Tensor<double>{{1, 4}, {2, 5}, {3, 6}});

  // dy = [[1, 2], [3, 4], [5, 6]] comes back transposed.
  y.backward(Tensor<double>{{1, 2}, {3, 4}, {5, 6}});
  CHECK(x.grad() == Tensor<double>{{1, 3, 5}, {2, 4, 6}});
}

TEST_CASE("linear by hand") {
  // x [2, 3], weight [2 outputs, 3 inputs], bias [2].
  // Row 0: [1·1 + 2·0 + 3·(-1) + 10, 1·2 + 2·1 + 3·0 + 20] = [8, 24]
  // Row 1: [0·1 + 1·0 + 1·(-1) + 10, 0·2 + 1·1 + 1·0 + 20] = [9, 21]
  const Variable<double> x(Tensor<double>{{1, 2, 3}, {0, 1, 1}}, true);
  const Variable<double> weight(Tensor<double>{{1, 0, -1}, {2, 1, 0}}, true);
  const Variable<double> bias(Tensor<double>{10, 20}, true);
  const Variable<double> y = linear(x, weight, bias);
  CHECK(y.value() == Tensor<double>{{8, 24}, {9, 21}});

  // dy = [[1, 0], [0, 2]]: dx = dy · W = [[1, 0, -1], [4, 2, 0]];
  // dW = dyᵀ · x = [[1, 2, 3], [0, 2, 2]]; dbias = column sums = [1, 2].
  y.backward(Tensor<double>{{1, 0}, {0, 2}});
  CHECK(x.grad() == Tensor<double>{{1, 0, -1}, {4, 2, 0}});
  CHECK(weight.grad() == Tensor<double>{{1, 2, 3}, {0, 2, 2}});
  CHECK(bias.grad() == Tensor<double>{1, 2});
}

TEST_CASE("linear records one node") {
  Tape tape;
  TapeScope scope(tape);
  const Variable<double> x(xt::ones<double>({4, 3}));
  const Variable<double> weight(xt::ones<double>({2, 3}), true);
  const Variable<double> bias(xt::ones<double>({2}), true);

  const Variable<double> with_bias = linear(x, weight, bias);
  REQUIRE(tape.size() == 1);
  CHECK(std::string(tape.nodes()[0]->op()) == "linear");
  CHECK(with_bias.grad_fn()->inputs().size() == 3);

  const Variable<double> without_bias = linear(x, weight);
  CHECK(tape.size() == 2);
  CHECK(without_bias.value() == Tensor<double>(xt::full_like(without_bias.value(), 3.0)));
}

TEST_CASE("matrix products gradcheck") {
  Generator generator(21);
  const auto random = [&](std::vector<std::size_t> shape) {
    return generator.uniform_tensor<double>(shape, -1.0, 1.0);
  };

  SUBCASE("matmul [3, 5] · [5, 2]") {
    check_gradients([](const Inputs& x) { return matmul(x[0], x[1]); },
                    {random({3, 5}), random({5, 2})});
  }
  SUBCASE("matmul of a variable with itself") {
    // Both gemm calls write into one gradient: the first with beta 0, the
    // second adding with beta 1.
    check_gradients([](const Inputs& x) { return matmul(x[0], x[0]); }, {random({4, 4})});
  }
  SUBCASE("matmul [1, 7] · [7, 1]") {
    check_gradients([](const Inputs& x) { return matmul(x[0], x[1]); },
                    {random({1, 7}), random({7, 1})});
  }
  SUBCASE("transpose [3, 5]") {
    check_gradients([](const Inputs& x) { return transpose(x[0]); }, {random({3, 5})});
  }
  SUBCASE("linear with bias") {
    check_gradients([](const Inputs& x) { return linear(x[0], x[1], x[2]); },
                    {random({3, 5}), random({4, 5}), random({4})});
  }
  SUBCASE("linear without bias") {
    check_gradients([](const Inputs& x) { return linear(x[0], x[1]); },
                    {random({3, 5}), random({4, 5})});
  }
  SUBCASE("linear of a batch of one") {
    check_gradients([](const Inputs& x) { return linear(x[0], x[1], x[2]); },
                    {random({1, 3}), random({2, 3}), random({2})});
  }
}

TEST_CASE("matrix products float match double") {
  Generator generator(22);
  const std::vector<Tensor<double>> inputs = {
      generator.uniform_tensor<double>({3, 5}, -1.0, 1.0),
      generator.uniform_tensor<double>({4, 5}, -1.0, 1.0),
      generator.uniform_tensor<double>({4}, -1.0, 1.0)};
  check_float_matches_double([](const auto& x) { return linear(x[0], x[1], x[2]); }, inputs);
  check_float_matches_double([](const auto& x) { return linear(x[0], x[1]); }, inputs);
  check_float_matches_double([](const auto& x) { return matmul(x[0], transpose(x[1])); }, inputs);
}

TEST_CASE("linear of an empty batch") {
  const Variable<double> x(Tensor<double>::from_shape({0, 3}), true);
  const Variable<double> weight(xt::ones<double>({2, 3}), true);
  const Variable<double> bias(xt::ones<double>({2}), true);
  const Variable<double> y = linear(x, weight, bias);
  CHECK(y.shape() == Tensor<double>::shape_type{0, 2});

  // No rows, so no contribution: the gradients are zero, not uninitialised.
  y.backward(Tensor<double>::from_shape({0, 2}));
  CHECK(weight.grad() == Tensor<double>(xt::zeros<double>({2, 3})));
  CHECK(bias.grad() == Tensor<double>{0, 0});
}

TEST_CASE("matrix product shape errors") {
  const Variable<double> a(xt::zeros<double>({32, 784}), true);
  const Variable<double> b(xt::zeros<double>({128, 10}), true);
  const Variable<double> vector(xt::zeros<double>({5}), true);

  CHECK_THROWS_WITH_AS(matmul(a, b), "matmul: inner sizes differ: a is [32, 784], b is [128, 10]",
                       ShapeError);
  CHECK_THROWS_WITH_AS(matmul(vector, b), doctest::Contains("matmul: a must be 2-D"), ShapeError);
  CHECK_THROWS_WITH_AS(transpose(vector), doctest::Contains("transpose: x must be 2-D, but its "
                                                            "shape is [5]"),
                       ShapeError);

  const Variable<double> x(xt::zeros<double>({32, 784}));
  const Variable<double> weight(xt::zeros<double>({128, 700}), true);
  CHECK_THROWS_WITH_AS(linear(x, weight),
                       "linear: x is [32, 784] and weight is [128, 700] [out_features, "
                       "in_features], so x must have 700 columns; pass x shaped [batch, 700], or "
                       "a layer made for 784 input features",
                       ShapeError);
  CHECK_THROWS_WITH_AS(linear(vector, weight), doctest::Contains("linear: x must be 2-D"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(linear(x, vector), doctest::Contains("linear: weight must be 2-D"),
                       ShapeError);

  const Variable<double> good_weight(xt::zeros<double>({128, 784}), true);
  const Variable<double> bias(xt::zeros<double>({10}), true);
  CHECK_THROWS_WITH_AS(linear(x, good_weight, bias),
                       "linear: bias is [10] but must be [128], one value per row of weight "
                       "[128, 784]",
                       ShapeError);
}
