// softmax_cross_entropy and its backward: values by hand, central
// differences, float against a long double reference, extreme logits and
// every caller error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Logits of the four classes car, airplane, bike, bus, chosen so that the
// softmax is exact in decimal: exp(x) = (2, 5, 1, 2) sums to 10, so
// softmax(x) = (0.2, 0.5, 0.1, 0.2).
template <class T>
Tensor<T> vehicle_logits(std::size_t rows) {
  Tensor<T> logits = Tensor<T>::from_shape({rows, 4});
  for (std::size_t b = 0; b < rows; ++b) {
    logits(b, 0) = static_cast<T>(std::log(2.0));
    logits(b, 1) = static_cast<T>(std::log(5.0));
    logits(b, 2) = T(0);
    logits(b, 3) = static_cast<T>(std::log(2.0));
  }
  return logits;
}

// Returns d f / d x by central differences. The step balances truncation
// error (step^2) against rounding error (1e-16 / step) for losses of order 1.
template <class Function>
Tensor<double> central_differences(const Function& f, Tensor<double> x) {
  constexpr double step = 1e-5;
  Tensor<double> gradient = xt::zeros<double>(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x.data()[i];
    x.data()[i] = saved + step;
    const double above = f(x);
    x.data()[i] = saved - step;
    const double below = f(x);
    x.data()[i] = saved;
    gradient.data()[i] = (above - below) / (2 * step);
  }
  return gradient;
}

template <class T>
double max_abs_difference(const Tensor<T>& a, const Tensor<double>& b) {
  const Tensor<double> a_double = xt::cast<double>(a);
  return xt::amax(xt::abs(a_double - b))();
}

// The loss and gradient in long double from the same float logits. With m
// the row maximum, S = 1 + rest where rest sums exp(x - m) over the other
// classes, and log1p(rest) keeps the small terms when one class dominates.
struct Reference {
  double loss;
  Tensor<double> gradient;
};

template <class T>
Reference reference_loss(const Tensor<T>& logits, const Tensor<T>& targets) {
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];
  Reference reference{0.0, xt::zeros<double>({batch_size, num_classes})};
  long double loss_sum = 0;
  for (std::size_t b = 0; b < batch_size; ++b) {
    std::size_t argmax = 0;
    for (std::size_t c = 1; c < num_classes; ++c) {
      if (logits(b, c) > logits(b, argmax)) argmax = c;
    }
    const long double max = logits(b, argmax);
    long double rest = 0;
    for (std::size_t c = 0; c < num_classes; ++c) {
      if (c != argmax) rest += std::exp(static_cast<long double>(logits(b, c)) - max);
    }
    long double target_sum = 0;
    long double weighted = 0;
    for (std::size_t c = 0; c < num_classes; ++c) {
      if (targets(b, c) == 0) continue;
      target_sum += targets(b, c);
      weighted += static_cast<long double>(targets(b, c)) * (logits(b, c) - max);
    }
    loss_sum += std::log1p(rest) * target_sum - weighted;
    for (std::size_t c = 0; c < num_classes; ++c) {
      const long double prob = std::exp(static_cast<long double>(logits(b, c)) - max) / (1 + rest);
      reference.gradient(b, c) =
          static_cast<double>((prob * target_sum - targets(b, c)) / batch_size);
    }
  }
  reference.loss = static_cast<double>(loss_sum / batch_size);
  return reference;
}

// The float tolerance against the reference: rtol 1e-5 plus atol 1e-6.
bool close_for_float(double value, double reference) {
  return std::abs(value - reference) <= 1e-6 + 1e-5 * std::abs(reference);
}

// Random targets: non-negative rows that sum to 1.
template <class T>
Tensor<T> random_probabilities(Generator& generator, std::size_t rows, std::size_t columns) {
  Tensor<T> targets = generator.uniform_tensor<T>({rows, columns}, T(0), T(1));
  for (std::size_t b = 0; b < rows; ++b) {
    T row_sum = 0;
    for (std::size_t c = 0; c < columns; ++c) row_sum += targets(b, c);
    for (std::size_t c = 0; c < columns; ++c) targets(b, c) /= row_sum;
  }
  return targets;
}

}  // namespace

TEST_CASE_TEMPLATE("softmax_cross_entropy soft targets by hand", T, float, double) {
  const Tensor<T> logits = vehicle_logits<T>(1);
  const Tensor<T> targets = {{T(0.10), T(0.60), T(0.05), T(0.25)}};

  // loss = -(0.10 ln 0.2 + 0.60 ln 0.5 + 0.05 ln 0.1 + 0.25 ln 0.2)
  //      = 0.35 ln 5 + 0.60 ln 2 + 0.05 ln 10
  //      = 0.563303 + 0.415888 + 0.115129 = 1.094321
  const double expected = 0.35 * std::log(5.0) + 0.60 * std::log(2.0) + 0.05 * std::log(10.0);
  CHECK(expected == doctest::Approx(1.094321).epsilon(1e-6));
  CHECK(softmax_cross_entropy(logits, targets) == doctest::Approx(expected).epsilon(1e-6));

  // gradient = softmax - t = (0.2 - 0.10, 0.5 - 0.60, 0.1 - 0.05, 0.2 - 0.25)
  const Tensor<double> expected_gradient = {{0.10, -0.10, 0.05, -0.05}};
  const Tensor<T> gradient = softmax_cross_entropy_backward(1, logits, targets);
  CHECK(max_abs_difference(gradient, expected_gradient) < 1e-6);
}

TEST_CASE_TEMPLATE("softmax_cross_entropy one-hot airplane by hand", T, float, double) {
  const Tensor<T> logits = vehicle_logits<T>(1);
  const Tensor<T> targets = {{0, 1, 0, 0}};

  // loss = -ln softmax(airplane) = -ln 0.5 = ln 2 = 0.693147
  CHECK(softmax_cross_entropy(logits, targets) == doctest::Approx(std::log(2.0)).epsilon(1e-6));

  // gradient = softmax - onehot = (0.2, 0.5 - 1, 0.1, 0.2)
  const Tensor<double> expected_gradient = {{0.2, -0.5, 0.1, 0.2}};
  CHECK(max_abs_difference(softmax_cross_entropy_backward(1, logits, targets),
                           expected_gradient) < 1e-6);
}

TEST_CASE("softmax_cross_entropy batch mean by hand") {
  const Tensor<double> logits = vehicle_logits<double>(2);
  const Tensor<double> targets = {{0.10, 0.60, 0.05, 0.25}, {0, 1, 0, 0}};

  // mean = (1.094321 + 0.693147) / 2 = 0.893734
  CHECK(softmax_cross_entropy(logits, targets) == doctest::Approx(0.893734).epsilon(1e-6));

  // Each row's gradient is divided by the batch size 2, and scaled by 3.
  const Tensor<double> expected_gradient = {{0.15, -0.15, 0.075, -0.075},
                                            {0.3, -0.75, 0.15, 0.3}};
  CHECK(max_abs_difference(softmax_cross_entropy_backward(3.0, logits, targets),
                           expected_gradient) < 1e-12);
}

TEST_CASE("softmax_cross_entropy targets not summing to 1") {
  const Tensor<double> logits = vehicle_logits<double>(2);
  // Row 0 is twice the soft targets (sum 2); row 1 is all zero (sum 0).
  const Tensor<double> targets = {{0.20, 1.20, 0.10, 0.50}, {0, 0, 0, 0}};

  // Row 0: ln 10 * 2 - sum t x = 2 * 1.094321; row 1 contributes 0.
  // mean = (2.188642 + 0) / 2 = 1.094321
  const double soft_loss = 0.35 * std::log(5.0) + 0.60 * std::log(2.0) + 0.05 * std::log(10.0);
  CHECK(softmax_cross_entropy(logits, targets) == doctest::Approx(soft_loss).epsilon(1e-12));

  // Row 0: (softmax * 2 - t) / 2 = (0.4 - 0.2, 1.0 - 1.2, 0.2 - 0.1, 0.4 - 0.5) / 2.
  // Row 1: softmax * 0 - 0 = 0.
  const Tensor<double> expected_gradient = {{0.10, -0.10, 0.05, -0.05}, {0, 0, 0, 0}};
  CHECK(max_abs_difference(softmax_cross_entropy_backward(1.0, logits, targets),
                           expected_gradient) < 1e-12);
}

TEST_CASE("softmax_cross_entropy backward matches central differences") {
  Generator generator(11);
  const Tensor<double> logits = generator.uniform_tensor<double>({3, 5}, -3.0, 3.0);
  // Unnormalised targets check the general form of the derivative.
  const Tensor<double> targets = generator.uniform_tensor<double>({3, 5}, 0.0, 1.0);
  const Tensor<double> numerical = central_differences(
      [&](const Tensor<double>& x) { return softmax_cross_entropy(x, targets); }, logits);

  SUBCASE("scalar grad_output 0.7") {
    const double difference =
        max_abs_difference(softmax_cross_entropy_backward(0.7, logits, targets), 0.7 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
  SUBCASE("integer grad_output 3") {
    const double difference =
        max_abs_difference(softmax_cross_entropy_backward(3, logits, targets), 3.0 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
  SUBCASE("one-element tensor grad_output -2.5") {
    const Tensor<double> grad_output = {-2.5};
    const double difference = max_abs_difference(
        softmax_cross_entropy_backward(grad_output, logits, targets), -2.5 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
  SUBCASE("0-D tensor grad_output 1.5") {
    const Tensor<double> grad_output = 1.5;
    REQUIRE(grad_output.dimension() == 0);
    const double difference = max_abs_difference(
        softmax_cross_entropy_backward(grad_output, logits, targets), 1.5 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
}

TEST_CASE("softmax_cross_entropy float matches the reference") {
  Generator generator(12);
  const std::size_t batch_size = 64;
  const std::size_t num_classes = 10;
  Tensor<float> logits =
      generator.uniform_tensor<float>({batch_size, num_classes}, -50.0f, 50.0f);
  Tensor<float> targets = random_probabilities<float>(generator, batch_size, num_classes);

  SUBCASE("logits in [-50, 50], soft targets") {}
  SUBCASE("logits in [-50, 50], one-hot targets") {
    targets.fill(0.0f);
    for (std::size_t b = 0; b < batch_size; ++b) targets(b, generator.below(num_classes)) = 1.0f;
  }
  SUBCASE("one class dominates each row") {
    // One logit 30 to 50 above the rest, so the others' exp(x - m) are 1e-13
    // to 1e-22: the loss on the dominant class is then that small sum.
    logits = generator.uniform_tensor<float>({batch_size, num_classes}, -10.0f, 0.0f);
    targets.fill(0.0f);
    for (std::size_t b = 0; b < batch_size; ++b) {
      const std::size_t dominant = generator.below(num_classes);
      logits(b, dominant) = static_cast<float>(generator.uniform(30.0, 40.0));
      targets(b, dominant) = b % 2 == 0 ? 1.0f : 0.9f;
      targets(b, (dominant + 1) % num_classes) = b % 2 == 0 ? 0.0f : 0.1f;
    }
  }

  const Reference reference = reference_loss(logits, targets);
  const float loss = softmax_cross_entropy(logits, targets);
  CAPTURE(loss);
  CAPTURE(reference.loss);
  CHECK(close_for_float(loss, reference.loss));

  const Tensor<float> gradient = softmax_cross_entropy_backward(1.0f, logits, targets);
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    CAPTURE(i);
    CAPTURE(gradient.data()[i]);
    CAPTURE(reference.gradient.data()[i]);
    CHECK(close_for_float(gradient.data()[i], reference.gradient.data()[i]));
  }
}

TEST_CASE("softmax_cross_entropy keeps float precision near 1e8") {
  // Floats near 1e8 are 8 apart, so these values are exact. Shifted by the
  // row maximum, they are (-8, 0, -24, -16) and (0, -32, -8, -40).
  const Tensor<float> logits = {{1e8f, 1e8f + 8, 1e8f - 16, 1e8f - 8},
                                {1e8f + 32, 1e8f, 1e8f + 24, 1e8f - 8}};
  const Tensor<float> targets = {{0, 1, 0, 0}, {0.25f, 0, 0.75f, 0}};

  // The reference works on the shifted logits in double. Computing
  // (m + log S) - x in float instead would round m + log S to a multiple of 8.
  const Tensor<double> shifted = {{-8, 0, -24, -16}, {0, -32, -8, -40}};
  const Tensor<double> targets_double = xt::cast<double>(targets);
  const double expected = reference_loss(shifted, targets_double).loss;
  const float loss = softmax_cross_entropy(logits, targets);
  CAPTURE(loss);
  CAPTURE(expected);
  CHECK(close_for_float(loss, expected));

  const Tensor<double> expected_gradient = reference_loss(shifted, targets_double).gradient;
  CHECK(max_abs_difference(softmax_cross_entropy_backward(1, logits, targets), expected_gradient) <
        1e-6);
}

TEST_CASE("softmax_cross_entropy mean of losses near the float maximum is finite") {
  // Each row loss is 0 - (-3e38) = 3e38; a float sum of four would overflow.
  const Tensor<float> logits = {{0, -3e38f}, {0, -3e38f}, {0, -3e38f}, {0, -3e38f}};
  const Tensor<float> targets = {{0, 1}, {0, 1}, {0, 1}, {0, 1}};
  const float loss = softmax_cross_entropy(logits, targets);
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(3e38).epsilon(1e-6));
  CHECK(xt::all(xt::isfinite(softmax_cross_entropy_backward(1, logits, targets))));
}

TEST_CASE_TEMPLATE("softmax_cross_entropy -inf logits", T, float, double) {
  const T inf = std::numeric_limits<T>::infinity();
  const Tensor<T> logits = {{-inf, 1, 2, -inf}};

  SUBCASE("with target 0 add nothing and get gradient 0") {
    const Tensor<T> targets = {{0, T(0.5), T(0.5), 0}};
    // loss = ln(e^1 + e^2) - (0.5 * 1 + 0.5 * 2)
    const double expected = std::log(std::exp(1.0) + std::exp(2.0)) - 1.5;
    CHECK(softmax_cross_entropy(logits, targets) == doctest::Approx(expected).epsilon(1e-6));

    const Tensor<T> gradient = softmax_cross_entropy_backward(2, logits, targets);
    CHECK(gradient(0, 0) == T(0));
    CHECK(gradient(0, 3) == T(0));
    // 2 * (softmax - t) at the finite logits: softmax(1, 2) = (0.268941, 0.731059).
    CHECK(gradient(0, 1) == doctest::Approx(2 * (0.268941 - 0.5)).epsilon(1e-5));
    CHECK(gradient(0, 2) == doctest::Approx(2 * (0.731059 - 0.5)).epsilon(1e-5));
  }
  SUBCASE("with target mass give +inf") {
    const Tensor<T> targets = {{T(0.1), T(0.4), T(0.5), 0}};
    CHECK(softmax_cross_entropy(logits, targets) == inf);
    // The gradient stays finite: (0 * 1 - 0.1) at the -inf logit.
    const Tensor<T> gradient = softmax_cross_entropy_backward(1, logits, targets);
    CHECK(xt::all(xt::isfinite(gradient)));
    CHECK(gradient(0, 0) == doctest::Approx(-0.1).epsilon(1e-6));
  }
}

TEST_CASE("softmax_cross_entropy shape errors") {
  const Tensor<float> targets = xt::zeros<float>({2, 4});

  const Tensor<float> vector = xt::zeros<float>({4});
  CHECK_THROWS_AS(softmax_cross_entropy(vector, vector), ShapeError);
  CHECK_THROWS_WITH(softmax_cross_entropy(vector, vector),
                    "softmax_cross_entropy: logits must be 2-D [batch, classes], but their shape "
                    "is [4]");

  const Tensor<float> empty_batch = xt::zeros<float>({0, 4});
  CHECK_THROWS_AS(softmax_cross_entropy(empty_batch, empty_batch), ShapeError);
  CHECK_THROWS_WITH(softmax_cross_entropy(empty_batch, empty_batch),
                    "softmax_cross_entropy: the batch is empty: logits are [0, 4]; pass at least "
                    "one row");

  const Tensor<float> no_classes = xt::zeros<float>({2, 0});
  CHECK_THROWS_AS(softmax_cross_entropy(no_classes, no_classes), ShapeError);
  CHECK_THROWS_WITH(softmax_cross_entropy(no_classes, no_classes),
                    "softmax_cross_entropy: there are no classes: logits are [2, 0]; pass at "
                    "least one column");

  const Tensor<float> logits = xt::zeros<float>({2, 4});
  const Tensor<float> wrong_targets = xt::zeros<float>({2, 3});
  CHECK_THROWS_AS(softmax_cross_entropy(logits, wrong_targets), ShapeError);
  CHECK_THROWS_WITH(softmax_cross_entropy(logits, wrong_targets),
                    "softmax_cross_entropy: targets are [2, 3] but logits are [2, 4]; they must "
                    "have the same shape");
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(1, logits, wrong_targets),
                    "softmax_cross_entropy_backward: targets are [2, 3] but logits are [2, 4]; "
                    "they must have the same shape");
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(1, vector, vector),
                    "softmax_cross_entropy_backward: logits must be 2-D [batch, classes], but "
                    "their shape is [4]");
}

TEST_CASE("softmax_cross_entropy logit errors name the position") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor<float> targets = {{0, 1, 0}, {1, 0, 0}};

  const Tensor<float> with_nan = {{0, 1, 2}, {3, nan, nan}};
  CHECK_THROWS_AS(softmax_cross_entropy(with_nan, targets), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy(with_nan, targets),
                    "softmax_cross_entropy: logits contain nan at [1, 1]; logits must be finite "
                    "or -inf");
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(1, with_nan, targets),
                    "softmax_cross_entropy_backward: logits contain nan at [1, 1]; logits must be "
                    "finite or -inf");

  const Tensor<float> with_inf = {{0, 1, inf}, {3, 4, 5}};
  CHECK_THROWS_AS(softmax_cross_entropy(with_inf, targets), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy(with_inf, targets),
                    "softmax_cross_entropy: logits contain inf at [0, 2]; logits must be finite "
                    "or -inf");

  const Tensor<float> all_minus_inf = {{0, 1, 2}, {-inf, -inf, -inf}};
  CHECK_THROWS_AS(softmax_cross_entropy(all_minus_inf, targets), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy(all_minus_inf, targets),
                    "softmax_cross_entropy: row 1 of the logits is all -inf; at least one logit "
                    "per row must be finite");
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(1, all_minus_inf, targets),
                    "softmax_cross_entropy_backward: row 1 of the logits is all -inf; at least "
                    "one logit per row must be finite");
}

TEST_CASE("softmax_cross_entropy target errors name the position") {
  const Tensor<double> logits = {{0, 1, 2}, {3, 4, 5}};

  const Tensor<double> negative = {{0, 1, 0}, {0.5, 0.75, -0.25}};
  CHECK_THROWS_AS(softmax_cross_entropy(logits, negative), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy(logits, negative),
                    "softmax_cross_entropy: targets contain -0.25 at [1, 2]; targets must be "
                    "finite and at least 0");

  const Tensor<double> with_nan = {{0, kNaN, 1}, {1, 0, 0}};
  CHECK_THROWS_AS(softmax_cross_entropy(logits, with_nan), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy(logits, with_nan),
                    "softmax_cross_entropy: targets contain nan at [0, 1]; targets must be "
                    "finite and at least 0");

  const Tensor<double> with_inf = {{0, 0, 1}, {kInf, 0, 0}};
  CHECK_THROWS_AS(softmax_cross_entropy_backward(1, logits, with_inf), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(1, logits, with_inf),
                    "softmax_cross_entropy_backward: targets contain inf at [1, 0]; targets must "
                    "be finite and at least 0");
}

TEST_CASE("softmax_cross_entropy grad_output errors") {
  const Tensor<float> logits = vehicle_logits<float>(2);
  const Tensor<float> targets = {{0, 1, 0, 0}, {0, 0, 1, 0}};

  const Tensor<float> two_values = {1, 2};
  CHECK_THROWS_AS(softmax_cross_entropy_backward(two_values, logits, targets), ShapeError);
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(two_values, logits, targets),
                    "softmax_cross_entropy_backward: grad_output must be a scalar or have one "
                    "element, but its shape is [2]");
  const Tensor<float> empty = xt::zeros<float>({1, 0});
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(empty, logits, targets),
                    "softmax_cross_entropy_backward: grad_output must be a scalar or have one "
                    "element, but its shape is [1, 0]");

  const Tensor<float> nan_tensor = {std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_AS(softmax_cross_entropy_backward(nan_tensor, logits, targets), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(nan_tensor, logits, targets),
                    "softmax_cross_entropy_backward: grad_output is nan; it must be a finite "
                    "number");
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(kNaN, logits, targets),
                    "softmax_cross_entropy_backward: grad_output is nan; it must be a finite "
                    "number");
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(-kInf, logits, targets),
                    "softmax_cross_entropy_backward: grad_output is -inf; it must be a finite "
                    "number");

  // 1e300 does not fit in float; it is rejected before the conversion.
  CHECK_THROWS_AS(softmax_cross_entropy_backward(1e300, logits, targets), ValueError);
  CHECK_THROWS_WITH(softmax_cross_entropy_backward(1e300, logits, targets),
                    "softmax_cross_entropy_backward: grad_output is 1e+300; its magnitude must "
                    "be at most 3.4028235e+38");
}

TEST_CASE("softmax_cross_entropy_backward takes any arithmetic grad_output") {
  const Tensor<float> logits = vehicle_logits<float>(1);
  const Tensor<float> targets = {{0, 1, 0, 0}};
  const Tensor<float> expected = softmax_cross_entropy_backward(2.0f, logits, targets);

  CHECK(softmax_cross_entropy_backward(2.0, logits, targets) == expected);
  CHECK(softmax_cross_entropy_backward(2, logits, targets) == expected);
  CHECK(softmax_cross_entropy_backward(2L, logits, targets) == expected);
  CHECK(softmax_cross_entropy_backward(2.0L, logits, targets) == expected);
  const Tensor<float> vector = {2.0f};
  CHECK(softmax_cross_entropy_backward(vector, logits, targets) == expected);
  Tensor<float> matrix = xt::zeros<float>({1, 1});
  matrix(0, 0) = 2.0f;
  CHECK(softmax_cross_entropy_backward(matrix, logits, targets) == expected);
}
