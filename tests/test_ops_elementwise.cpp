// add, sub, mul, div, neg and their operators: values by hand, gradients by
// gradcheck in every broadcast case, float against double, shape errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "tapegrad.hpp"
#include "tests/autograd_checks.hpp"

using namespace tapegrad;
using autograd_checks::check_float_matches_double;
using autograd_checks::check_gradients;

namespace {

using Shape = std::vector<std::size_t>;
using Inputs = std::vector<Variable<double>>;

// Every supported way for a second operand to meet a [3, 5] first one.
struct BroadcastCase {
  const char* name;
  Shape other;
};

const std::vector<BroadcastCase> kBroadcastCases = {
    {"equal shapes", {3, 5}}, {"0-D scalar", {}},       {"[1] scalar", {1}},
    {"row [N]", {5}},         {"row [1, N]", {1, 5}},   {"column [B, 1]", {3, 1}},
};

Tensor<double> column(std::vector<double> values) {
  Tensor<double> result = xt::adapt(values, Shape{values.size(), 1});
  return result;
}

}  // namespace

TEST_CASE("add by hand") {
  // [[1, 2], [3, 4]] + [10, 20] adds the row to each row: [[11, 22], [13, 24]].
  const Variable<double> a(Tensor<double>{{1, 2}, {3, 4}}, true);
  const Variable<double> bias(Tensor<double>{10, 20}, true);
  const Variable<double> y = a + bias;
  CHECK(y.value() == Tensor<double>{{11, 22}, {13, 24}});

  // d sum(y) / da is 1 everywhere; the bias was used by both rows, so its
  // gradient sums them: [1 + 1, 1 + 1].
  sum(y).backward();
  CHECK(a.grad() == Tensor<double>{{1, 1}, {1, 1}});
  CHECK(bias.grad() == Tensor<double>{2, 2});
}

TEST_CASE("sub by hand with a column") {
  // [[5, 6, 7], [8, 9, 10]] - [[1], [2]] = [[4, 5, 6], [6, 7, 8]]
  const Variable<double> a(Tensor<double>{{5, 6, 7}, {8, 9, 10}}, true);
  const Variable<double> b(column({1, 2}), true);
  const Variable<double> y = a - b;
  CHECK(y.value() == Tensor<double>{{4, 5, 6}, {6, 7, 8}});

  // d sum(y) / db = -(sum of each row of ones) = [[-3], [-3]].
  sum(y).backward();
  CHECK(a.grad() == Tensor<double>{{1, 1, 1}, {1, 1, 1}});
  CHECK(b.grad() == column({-3, -3}));
}

TEST_CASE("mul and div by hand") {
  // y = a * b = [1·4, 2·5, 3·6] = [4, 10, 18]; d sum(y)/da = b, d sum(y)/db = a.
  const Variable<double> a(Tensor<double>{1, 2, 3}, true);
  const Variable<double> b(Tensor<double>{4, 5, 6}, true);
  const Variable<double> product = a * b;
  CHECK(product.value() == Tensor<double>{4, 10, 18});
  sum(product).backward();
  CHECK(a.grad() == Tensor<double>{4, 5, 6});
  CHECK(b.grad() == Tensor<double>{1, 2, 3});

  // y = p / q = [1/2, 4/8] = [0.5, 0.5]; dp = 1/q = [0.5, 0.125];
  // dq = -p/q² = [-1/4, -4/64] = [-0.25, -0.0625].
  const Variable<double> p(Tensor<double>{1, 4}, true);
  const Variable<double> q(Tensor<double>{2, 8}, true);
  const Variable<double> quotient = p / q;
  CHECK(quotient.value() == Tensor<double>{0.5, 0.5});
  sum(quotient).backward();
  CHECK(p.grad() == Tensor<double>{0.5, 0.125});
  CHECK(q.grad() == Tensor<double>{-0.25, -0.0625});
}

TEST_CASE("neg and scalar operators by hand") {
  const Variable<double> x(Tensor<double>{1, -2, 4}, true);

  CHECK((-x).value() == Tensor<double>{-1, 2, -4});
  CHECK((x * 2.0).value() == Tensor<double>{2, -4, 8});
  CHECK((2 * x).value() == Tensor<double>{2, -4, 8});
  CHECK((x + 1).value() == Tensor<double>{2, -1, 5});
  CHECK((1 - x).value() == Tensor<double>{0, 3, -3});
  CHECK((x - 1.5f).value() == Tensor<double>{-0.5, -3.5, 2.5});
  CHECK((1 / x).value() == Tensor<double>{1, -0.5, 0.25});
  CHECK((x / 2).value() == Tensor<double>{0.5, -1, 2});
  CHECK(add(x, 3).value() == Tensor<double>{4, 1, 7});
  CHECK(mul(x, 'a' - 'a').value() == Tensor<double>{0, 0, 0});

  // y = 3 - 2x + 1/x: dy/dx = -2 - 1/x² = [-3, -2.25, -2.0625].
  sum(3 - 2 * x + 1 / x).backward();
  CHECK(x.grad() == Tensor<double>{-3, -2.25, -2.0625});
}

TEST_CASE("scalar operand shows in the tape") {
  Tape tape;
  TapeScope scope(tape);
  const Variable<double> x(Tensor<double>{1, 2}, true);
  const Variable<double> y = x * 0.5;
  REQUIRE(y.grad_fn() != nullptr);
  CHECK(std::string(y.grad_fn()->op()) == "mul");
  CHECK(y.grad_fn()->inputs()[1].name() == "0.5");
  CHECK_FALSE(y.grad_fn()->inputs()[1].requires_grad());
}

TEST_CASE("binary ops gradcheck in every broadcast case") {
  Generator generator(11);
  for (const BroadcastCase& broadcast : kBroadcastCases) {
    for (const bool swapped : {false, true}) {
      CAPTURE(broadcast.name);
      CAPTURE(swapped);
      const Shape first = swapped ? broadcast.other : Shape{3, 5};
      const Shape second = swapped ? Shape{3, 5} : broadcast.other;
      // Denominators in [0.5, 1.5] keep div far from its pole at 0.
      const std::vector<Tensor<double>> inputs = {
          generator.uniform_tensor<double>(first, -1.0, 1.0),
          generator.uniform_tensor<double>(second, 0.5, 1.5)};

      check_gradients([](const Inputs& x) { return x[0] + x[1]; }, inputs);
      check_gradients([](const Inputs& x) { return x[0] - x[1]; }, inputs);
      check_gradients([](const Inputs& x) { return x[0] * x[1]; }, inputs);
      check_gradients([](const Inputs& x) { return x[0] / x[1]; }, inputs);

      const auto result = (Variable<double>(inputs[0]) + Variable<double>(inputs[1])).value();
      CHECK(result.shape() == Tensor<double>::shape_type{3, 5});
    }
  }
}

TEST_CASE("unary and scalar forms gradcheck") {
  Generator generator(12);
  const std::vector<Tensor<double>> inputs = {
      generator.uniform_tensor<double>({3, 5}, 0.5, 1.5)};
  check_gradients([](const Inputs& x) { return -x[0]; }, inputs);
  check_gradients([](const Inputs& x) { return x[0] * 2.5 + 1; }, inputs);
  check_gradients([](const Inputs& x) { return 3 - x[0] / 4; }, inputs);
  check_gradients([](const Inputs& x) { return 2 / x[0]; }, inputs);

  // A [1] scalar and a 0-D scalar together give [1].
  const std::vector<Tensor<double>> scalars = {Tensor<double>{0.7}, Tensor<double>(1.3)};
  check_gradients([](const Inputs& x) { return x[0] * x[1]; }, scalars);
  check_gradients([](const Inputs& x) { return x[1] / x[0]; }, scalars);
}

TEST_CASE("elementwise float matches double") {
  Generator generator(13);
  const std::vector<Tensor<double>> inputs = {
      generator.uniform_tensor<double>({3, 5}, -2.0, 2.0),
      generator.uniform_tensor<double>({5}, 0.5, 1.5)};
  check_float_matches_double([](const auto& x) { return x[0] + x[1]; }, inputs);
  check_float_matches_double([](const auto& x) { return x[0] - x[1]; }, inputs);
  check_float_matches_double([](const auto& x) { return x[0] * x[1]; }, inputs);
  check_float_matches_double([](const auto& x) { return x[0] / x[1]; }, inputs);
  check_float_matches_double([](const auto& x) { return -x[0] * 3 + 0.25; }, inputs);
}

TEST_CASE("unsupported broadcast throws") {
  const Variable<double> a(xt::zeros<double>({3, 4}), true);
  const Variable<double> b(xt::zeros<double>({4, 3}), true);
  CHECK_THROWS_AS(a + b, ShapeError);
  CHECK_THROWS_WITH(a + b, "add: cannot broadcast [3, 4] with [4, 3]; supported: equal shapes, "
                           "a scalar, a row [N] or [1, N] over [B, N], a column [B, 1] over "
                           "[B, N]");

  // NumPy would broadcast these, but they are not declared cases.
  const Variable<double> matrix(xt::zeros<double>({3, 4}));
  const Variable<double> wrong_row(xt::zeros<double>({3}));
  const Variable<double> cube(xt::zeros<double>({2, 3, 4}));
  const Variable<double> pair(xt::zeros<double>({2}));
  CHECK_THROWS_WITH_AS(sub(matrix, wrong_row),
                       doctest::Contains("sub: cannot broadcast [3, 4] with [3];"), ShapeError);
  CHECK_THROWS_WITH_AS(mul(cube, matrix),
                       doctest::Contains("mul: cannot broadcast [2, 3, 4] with [3, 4];"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(div(pair, matrix),
                       doctest::Contains("div: cannot broadcast [2] with [3, 4];"), ShapeError);
  CHECK_THROWS_WITH_AS(2.0 - wrong_row + matrix,
                       doctest::Contains("add: cannot broadcast [3] with [3, 4];"), ShapeError);
}

TEST_CASE("elementwise NaN in gives NaN out") {
  const double nan = std::nan("");
  const Variable<double> x(Tensor<double>{nan, 1.0});
  const Variable<double> zero(Tensor<double>{0.0, 0.0});
  const Tensor<double> sum_value = (x + 1).value();
  CHECK(std::isnan(sum_value(0)));
  CHECK(sum_value(1) == 2.0);

  // x / 0 follows IEEE: inf for a non-zero numerator.
  const Tensor<double> quotient = (x / zero).value();
  CHECK(std::isnan(quotient(0)));
  CHECK(std::isinf(quotient(1)));
  CHECK(std::isnan((-x).value()(0)));
  CHECK(std::isnan((x * x).value()(0)));
}
