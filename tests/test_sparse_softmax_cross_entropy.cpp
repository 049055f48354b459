// sparse_softmax_cross_entropy and its backward: values by hand, agreement
// with the dense loss, central differences, float against a long double
// reference, extreme logits, every label type and every caller error.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// The four classes of the hand-computed cases, as class ids 0 to 3.
enum class Vehicle : std::uint8_t { car, airplane, bike, bus };
enum PlainVehicle : int { plain_car, plain_airplane, plain_bike, plain_bus };

// Logits of car, airplane, bike, bus, chosen so that the softmax is exact in
// decimal: exp(x) = (2, 5, 1, 2) sums to 10, so softmax(x) = (0.2, 0.5, 0.1, 0.2).
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
// the row maximum, log S = log1p(rest), where rest sums exp(x - m) over the
// other classes, so the small terms survive when one class dominates.
struct Reference {
  double loss;
  Tensor<double> gradient;
};

template <class T>
Reference reference_loss(const Tensor<T>& logits, const Tensor<std::int64_t>& labels) {
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
    const auto label = static_cast<std::size_t>(labels(b));
    loss_sum += std::log1p(rest) - (logits(b, label) - max);
    for (std::size_t c = 0; c < num_classes; ++c) {
      const long double prob = std::exp(static_cast<long double>(logits(b, c)) - max) / (1 + rest);
      const long double onehot = c == label ? 1 : 0;
      reference.gradient(b, c) = static_cast<double>((prob - onehot) / batch_size);
    }
  }
  reference.loss = static_cast<double>(loss_sum / batch_size);
  return reference;
}

// The float tolerance against the reference: rtol 1e-5 plus atol 1e-6.
bool close_for_float(double value, double reference) {
  return std::abs(value - reference) <= 1e-6 + 1e-5 * std::abs(reference);
}

template <class T>
Tensor<T> one_hot(const Tensor<std::int64_t>& labels, std::size_t num_classes) {
  Tensor<T> targets = xt::zeros<T>({labels.size(), num_classes});
  for (std::size_t b = 0; b < labels.size(); ++b) {
    targets(b, static_cast<std::size_t>(labels(b))) = T(1);
  }
  return targets;
}

}  // namespace

TEST_CASE_TEMPLATE("sparse_softmax_cross_entropy airplane by hand", T, float, double) {
  const Tensor<T> logits = vehicle_logits<T>(2);
  const Tensor<std::int64_t> labels = {1, 3};

  // Row 0, airplane: ln 10 - ln 5 = ln 2 = 0.693147.
  // Row 1, bus:      ln 10 - ln 2 = ln 5 = 1.609438.
  // mean = (0.693147 + 1.609438) / 2 = 1.151293
  CHECK(sparse_softmax_cross_entropy(logits, labels) ==
        doctest::Approx(1.151293).epsilon(1e-6));

  // (softmax - onehot) / 2, with softmax = (0.2, 0.5, 0.1, 0.2).
  const Tensor<double> expected_gradient = {{0.1, -0.25, 0.05, 0.1}, {0.1, 0.25, 0.05, -0.4}};
  CHECK(max_abs_difference(sparse_softmax_cross_entropy_backward(1, logits, labels),
                           expected_gradient) < 1e-6);
}

TEST_CASE("sparse_softmax_cross_entropy accepts every label type") {
  const Tensor<double> logits = vehicle_logits<double>(1);
  const double airplane_loss = std::log(2.0);

  const Tensor<std::uint8_t> uint8_labels = {1};
  const Tensor<int> int_labels = {1};
  const Tensor<std::int64_t> int64_labels = {1};
  const Tensor<char> char_labels = {char(1)};
  const Tensor<Vehicle> enum_class_labels = {Vehicle::airplane};
  const Tensor<PlainVehicle> enum_labels = {plain_airplane};
  const Tensor<double> double_labels = {1.0};
  const Tensor<float> float_labels = {1.0f};

  CHECK(sparse_softmax_cross_entropy(logits, uint8_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, int_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, int64_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, char_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, enum_class_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, enum_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, double_labels) == doctest::Approx(airplane_loss));
  CHECK(sparse_softmax_cross_entropy(logits, float_labels) == doctest::Approx(airplane_loss));

  const Tensor<double> expected = sparse_softmax_cross_entropy_backward(1, logits, int64_labels);
  CHECK(sparse_softmax_cross_entropy_backward(1, logits, uint8_labels) == expected);
  CHECK(sparse_softmax_cross_entropy_backward(1, logits, char_labels) == expected);
  CHECK(sparse_softmax_cross_entropy_backward(1, logits, enum_class_labels) == expected);
  CHECK(sparse_softmax_cross_entropy_backward(1, logits, double_labels) == expected);

  // bool and non-numeric types are rejected at compile time.
  static_assert(!detail::is_label_type<bool>);
  static_assert(!detail::is_label_type<std::string>);
  static_assert(!detail::is_label_type<int*>);
  static_assert(detail::is_label_type<char>);
  static_assert(detail::is_label_type<Vehicle>);
  static_assert(detail::is_label_type<long double>);
}

TEST_CASE("sparse_softmax_cross_entropy_backward takes any arithmetic grad_output") {
  const Tensor<float> float_logits = vehicle_logits<float>(2);
  const Tensor<std::int64_t> labels = {1, 0};
  const Tensor<float> expected = sparse_softmax_cross_entropy_backward(1.0f, float_logits, labels);

  // A double literal with float logits: the scalar does not take part in
  // deducing the tensor type.
  CHECK(sparse_softmax_cross_entropy_backward(1.0, float_logits, labels) == expected);
  CHECK(sparse_softmax_cross_entropy_backward(1, float_logits, labels) == expected);
  CHECK(sparse_softmax_cross_entropy_backward(std::uint8_t{1}, float_logits, labels) == expected);
  const Tensor<float> grad_output = {1.0f};
  CHECK(sparse_softmax_cross_entropy_backward(grad_output, float_logits, labels) == expected);
}

TEST_CASE_TEMPLATE("sparse and dense agree on one-hot targets", T, float, double) {
  Generator generator(21);
  const std::size_t batch_size = 9;
  const std::size_t num_classes = 7;
  const Tensor<T> logits = generator.uniform_tensor<T>({batch_size, num_classes}, T(-8), T(8));
  Tensor<std::int64_t> labels = xt::zeros<std::int64_t>({batch_size});
  for (std::size_t b = 0; b < batch_size; ++b) {
    labels(b) = static_cast<std::int64_t>(generator.below(num_classes));
  }
  const Tensor<T> targets = one_hot<T>(labels, num_classes);

  const double tolerance = sizeof(T) == 4 ? 1e-6 : 1e-14;
  const T sparse_loss = sparse_softmax_cross_entropy(logits, labels);
  const T dense_loss = softmax_cross_entropy(logits, targets);
  CHECK(sparse_loss == doctest::Approx(dense_loss).epsilon(tolerance));

  const Tensor<double> dense_gradient =
      xt::cast<double>(softmax_cross_entropy_backward(0.5, logits, targets));
  const double difference = max_abs_difference(
      sparse_softmax_cross_entropy_backward(0.5, logits, labels), dense_gradient);
  CAPTURE(difference);
  CHECK(difference <= tolerance);
}

TEST_CASE("sparse_softmax_cross_entropy backward matches central differences") {
  Generator generator(22);
  const Tensor<double> logits = generator.uniform_tensor<double>({4, 6}, -3.0, 3.0);
  const Tensor<std::int64_t> labels = {5, 0, 2, 2};
  const Tensor<double> numerical = central_differences(
      [&](const Tensor<double>& x) { return sparse_softmax_cross_entropy(x, labels); }, logits);

  SUBCASE("scalar grad_output 0.7") {
    const double difference = max_abs_difference(
        sparse_softmax_cross_entropy_backward(0.7, logits, labels), 0.7 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
  SUBCASE("one-element tensor grad_output -2.5") {
    const Tensor<double> grad_output = {-2.5};
    const double difference = max_abs_difference(
        sparse_softmax_cross_entropy_backward(grad_output, logits, labels), -2.5 * numerical);
    CAPTURE(difference);
    CHECK(difference < 1e-8);
  }
}

TEST_CASE("sparse_softmax_cross_entropy float matches the reference") {
  Generator generator(23);
  const std::size_t batch_size = 64;
  const std::size_t num_classes = 10;
  Tensor<float> logits =
      generator.uniform_tensor<float>({batch_size, num_classes}, -50.0f, 50.0f);
  Tensor<std::int64_t> labels = xt::zeros<std::int64_t>({batch_size});
  for (std::size_t b = 0; b < batch_size; ++b) {
    labels(b) = static_cast<std::int64_t>(generator.below(num_classes));
  }

  SUBCASE("logits in [-50, 50]") {}
  SUBCASE("one class dominates each row") {
    // In even rows the labelled logit is 30 to 40 above the rest, so the
    // loss is the tiny sum of the others' exp(x - m). Odd rows label another
    // class, whose loss is about 30 to 50.
    logits = generator.uniform_tensor<float>({batch_size, num_classes}, -10.0f, 0.0f);
    for (std::size_t b = 0; b < batch_size; ++b) {
      const auto label = static_cast<std::size_t>(labels(b));
      const std::size_t dominant = b % 2 == 0 ? label : (label + 1) % num_classes;
      logits(b, dominant) = static_cast<float>(generator.uniform(30.0, 40.0));
    }
  }

  const Reference reference = reference_loss(logits, labels);
  const float loss = sparse_softmax_cross_entropy(logits, labels);
  CAPTURE(loss);
  CAPTURE(reference.loss);
  CHECK(close_for_float(loss, reference.loss));

  const Tensor<float> gradient = sparse_softmax_cross_entropy_backward(1, logits, labels);
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    CAPTURE(i);
    CAPTURE(gradient.data()[i]);
    CAPTURE(reference.gradient.data()[i]);
    CHECK(close_for_float(gradient.data()[i], reference.gradient.data()[i]));
  }
}

TEST_CASE("sparse_softmax_cross_entropy keeps float precision near 1e8") {
  // Floats near 1e8 are 8 apart, so these values are exact. Shifted by the
  // row maximum, they are (-8, 0, -24, -16) and (0, -32, -8, -40).
  const Tensor<float> logits = {{1e8f, 1e8f + 8, 1e8f - 16, 1e8f - 8},
                                {1e8f + 32, 1e8f, 1e8f + 24, 1e8f - 8}};
  const Tensor<std::int64_t> labels = {1, 2};

  // Row 0: log(1 + e^-8 + e^-24 + e^-16) = 3.35e-4, which (m + log S) - x in
  // float would round away, because m + log S is a multiple of 8.
  const Tensor<double> shifted = {{-8, 0, -24, -16}, {0, -32, -8, -40}};
  const Reference reference = reference_loss(shifted, labels);
  const float loss = sparse_softmax_cross_entropy(logits, labels);
  CAPTURE(loss);
  CAPTURE(reference.loss);
  CHECK(close_for_float(loss, reference.loss));

  const Tensor<std::int64_t> airplane = {1};
  const Tensor<float> first_row = {{1e8f, 1e8f + 8, 1e8f - 16, 1e8f - 8}};
  const double first_row_loss = std::log1p(std::exp(-8.0) + std::exp(-24.0) + std::exp(-16.0));
  CHECK(close_for_float(sparse_softmax_cross_entropy(first_row, airplane), first_row_loss));

  CHECK(max_abs_difference(sparse_softmax_cross_entropy_backward(1, logits, labels),
                           reference.gradient) < 1e-6);
}

TEST_CASE("sparse_softmax_cross_entropy mean of losses near the float maximum is finite") {
  // Each row loss is 0 - (-3e38) = 3e38; a float sum of four would overflow.
  const Tensor<float> logits = {{0, -3e38f}, {0, -3e38f}, {0, -3e38f}, {0, -3e38f}};
  const Tensor<int> labels = {1, 1, 1, 1};
  const float loss = sparse_softmax_cross_entropy(logits, labels);
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(3e38).epsilon(1e-6));
  CHECK(xt::all(xt::isfinite(sparse_softmax_cross_entropy_backward(1, logits, labels))));
}

TEST_CASE_TEMPLATE("sparse_softmax_cross_entropy -inf logits", T, float, double) {
  const T inf = std::numeric_limits<T>::infinity();
  const Tensor<T> logits = {{-inf, 1, 2, -inf}};

  SUBCASE("away from the label add nothing and get gradient 0") {
    const Tensor<int> labels = {2};
    // loss = ln(e^1 + e^2) - 2
    const double expected = std::log(std::exp(1.0) + std::exp(2.0)) - 2.0;
    CHECK(sparse_softmax_cross_entropy(logits, labels) == doctest::Approx(expected).epsilon(1e-6));

    const Tensor<T> gradient = sparse_softmax_cross_entropy_backward(2, logits, labels);
    CHECK(gradient(0, 0) == T(0));
    CHECK(gradient(0, 3) == T(0));
    // 2 * (softmax - onehot) with softmax(1, 2) = (0.268941, 0.731059).
    CHECK(gradient(0, 1) == doctest::Approx(2 * 0.268941).epsilon(1e-5));
    CHECK(gradient(0, 2) == doctest::Approx(2 * (0.731059 - 1)).epsilon(1e-5));
  }
  SUBCASE("at the label give +inf") {
    const Tensor<int> labels = {3};
    CHECK(sparse_softmax_cross_entropy(logits, labels) == inf);
    const Tensor<T> gradient = sparse_softmax_cross_entropy_backward(1, logits, labels);
    CHECK(xt::all(xt::isfinite(gradient)));
    CHECK(gradient(0, 3) == T(-1));
  }
}

TEST_CASE("sparse_softmax_cross_entropy label errors name row, value and range") {
  const Tensor<float> logits = xt::zeros<float>({5, 10});

  const Tensor<int> too_large = {0, 1, 2, 12, 4};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(logits, too_large), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, too_large),
                    "sparse_softmax_cross_entropy: label 12 in row 3 is out of range [0, 10)");
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(1, logits, too_large),
                    "sparse_softmax_cross_entropy_backward: label 12 in row 3 is out of range "
                    "[0, 10)");

  const Tensor<std::int64_t> negative = {0, -1, 2, 3, 4};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(logits, negative), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, negative),
                    "sparse_softmax_cross_entropy: label -1 in row 1 is out of range [0, 10)");

  const Tensor<std::int64_t> at_class_count = {0, 1, 2, 3, 10};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, at_class_count),
                    "sparse_softmax_cross_entropy: label 10 in row 4 is out of range [0, 10)");

  const Tensor<std::uint8_t> uint8_labels = {200, 1, 2, 3, 4};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, uint8_labels),
                    "sparse_softmax_cross_entropy: label 200 in row 0 is out of range [0, 10)");

  // A char label prints as its number, not as a character.
  const Tensor<char> char_labels = {0, 1, 'A', 3, 4};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, char_labels),
                    "sparse_softmax_cross_entropy: label 65 in row 2 is out of range [0, 10)");
  const Tensor<char> negative_char = {0, 1, 2, 3, char(-5)};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(1, logits, negative_char),
                    "sparse_softmax_cross_entropy_backward: label -5 in row 4 is out of range "
                    "[0, 10)");

  const Tensor<float> four_classes = xt::zeros<float>({2, 4});
  const Tensor<Vehicle> enum_labels = {Vehicle::bus, static_cast<Vehicle>(9)};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(four_classes, enum_labels),
                    "sparse_softmax_cross_entropy: label 9 in row 1 is out of range [0, 4)");
  const Tensor<PlainVehicle> plain_enum_labels = {static_cast<PlainVehicle>(-2), plain_bus};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(four_classes, plain_enum_labels),
                    "sparse_softmax_cross_entropy: label -2 in row 0 is out of range [0, 4)");
}

TEST_CASE("sparse_softmax_cross_entropy floating label errors") {
  const Tensor<double> logits = xt::zeros<double>({3, 10});

  const Tensor<double> fractional = {0.0, 2.5, 3.0};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(logits, fractional), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, fractional),
                    "sparse_softmax_cross_entropy: label 2.5 in row 1 is not a whole number; "
                    "labels are class ids in [0, 10)");
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(1, logits, fractional),
                    "sparse_softmax_cross_entropy_backward: label 2.5 in row 1 is not a whole "
                    "number; labels are class ids in [0, 10)");

  const Tensor<float> nearly_whole = {0.0f, 1.0f, 3.0000002f};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, nearly_whole),
                    "sparse_softmax_cross_entropy: label 3.0000002 in row 2 is not a whole "
                    "number; labels are class ids in [0, 10)");

  // 1e300 is beyond every integer type: the range check must come first,
  // because casting it to an integer is undefined behaviour.
  const Tensor<double> huge = {0.0, 1e300, 3.0};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(logits, huge), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, huge),
                    "sparse_softmax_cross_entropy: label 1e+300 in row 1 is out of range [0, 10)");

  const Tensor<double> negative = {-1.0, 1.0, 3.0};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, negative),
                    "sparse_softmax_cross_entropy: label -1 in row 0 is out of range [0, 10)");
  const Tensor<double> negative_fraction = {0.0, -0.5, 3.0};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, negative_fraction),
                    "sparse_softmax_cross_entropy: label -0.5 in row 1 is out of range [0, 10)");
  const Tensor<double> at_class_count = {0.0, 1.0, 10.0};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, at_class_count),
                    "sparse_softmax_cross_entropy: label 10 in row 2 is out of range [0, 10)");

  const double inf = std::numeric_limits<double>::infinity();
  const Tensor<double> infinite = {0.0, inf, 3.0};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, infinite),
                    "sparse_softmax_cross_entropy: label inf in row 1 is out of range [0, 10)");
  const Tensor<double> nan = {std::numeric_limits<double>::quiet_NaN(), 1.0, 3.0};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, nan),
                    "sparse_softmax_cross_entropy: label nan in row 0 is out of range [0, 10)");

  // -0.0 is a whole number equal to 0: class 0.
  const Tensor<double> negative_zero = {-0.0, 1.0, 3.0};
  const Tensor<double> zero = {0.0, 1.0, 3.0};
  CHECK(sparse_softmax_cross_entropy(logits, negative_zero) ==
        sparse_softmax_cross_entropy(logits, zero));
}

TEST_CASE("sparse_softmax_cross_entropy shape errors") {
  const Tensor<float> logits = xt::zeros<float>({4, 10});

  const Tensor<int> short_labels = {0, 1, 2};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(logits, short_labels), ShapeError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, short_labels),
                    "sparse_softmax_cross_entropy: labels are [3] but the logits have 4 rows; "
                    "pass one label per row");
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(1, logits, short_labels),
                    "sparse_softmax_cross_entropy_backward: labels are [3] but the logits have 4 "
                    "rows; pass one label per row");

  const Tensor<int> column_labels = xt::zeros<int>({4, 1});
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(logits, column_labels), ShapeError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(logits, column_labels),
                    "sparse_softmax_cross_entropy: labels must be 1-D [batch], but their shape is "
                    "[4, 1]");

  const Tensor<int> labels = {0, 1, 2, 3};
  const Tensor<float> vector = xt::zeros<float>({10});
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(vector, labels), ShapeError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(vector, labels),
                    "sparse_softmax_cross_entropy: logits must be 2-D [batch, classes], but their "
                    "shape is [10]");

  const Tensor<float> empty_batch = xt::zeros<float>({0, 10});
  const Tensor<int> no_labels = xt::zeros<int>({0});
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(empty_batch, no_labels), ShapeError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(empty_batch, no_labels),
                    "sparse_softmax_cross_entropy: the batch is empty: logits are [0, 10]; pass "
                    "at least one row");

  const Tensor<float> no_classes = xt::zeros<float>({4, 0});
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(no_classes, labels), ShapeError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(1, no_classes, labels),
                    "sparse_softmax_cross_entropy_backward: there are no classes: logits are "
                    "[4, 0]; pass at least one column");
}

TEST_CASE("sparse_softmax_cross_entropy logit and grad_output errors") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor<int> labels = {0, 2};

  const Tensor<float> with_nan = {{0, 1, 2}, {nan, 4, nan}};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(with_nan, labels), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(with_nan, labels),
                    "sparse_softmax_cross_entropy: logits contain nan at [1, 0]; logits must be "
                    "finite or -inf");

  const Tensor<float> with_inf = {{0, inf, 2}, {3, 4, 5}};
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(1, with_inf, labels),
                    "sparse_softmax_cross_entropy_backward: logits contain inf at [0, 1]; logits "
                    "must be finite or -inf");

  const Tensor<float> all_minus_inf = {{-inf, -inf, -inf}, {3, 4, 5}};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(all_minus_inf, labels), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy(all_minus_inf, labels),
                    "sparse_softmax_cross_entropy: row 0 of the logits is all -inf; at least one "
                    "logit per row must be finite");

  const Tensor<float> logits = {{0, 1, 2}, {3, 4, 5}};
  const Tensor<float> three_values = {1, 2, 3};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy_backward(three_values, logits, labels),
                  ShapeError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(three_values, logits, labels),
                    "sparse_softmax_cross_entropy_backward: grad_output must be a scalar or have "
                    "one element, but its shape is [3]");
  const Tensor<float> nan_tensor = {nan};
  CHECK_THROWS_AS(sparse_softmax_cross_entropy_backward(nan_tensor, logits, labels), ValueError);
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(nan_tensor, logits, labels),
                    "sparse_softmax_cross_entropy_backward: grad_output is nan; it must be a "
                    "finite number");
  CHECK_THROWS_WITH(sparse_softmax_cross_entropy_backward(std::nan(""), logits, labels),
                    "sparse_softmax_cross_entropy_backward: grad_output is nan; it must be a "
                    "finite number");
}
