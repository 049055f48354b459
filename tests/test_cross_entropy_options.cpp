// The softmax cross-entropy losses with CrossEntropyOptions: reductions,
// class weights, ignore_index and label smoothing, by hand and in
// combination, through the graph nodes with gradcheck, and every invalid
// option.
//
// The hand-computed cases use logits with exp(x) = (2, 5, 1, 2), so that
// softmax(x) = p = (0.2, 0.5, 0.1, 0.2) and -log p = (ln 5, ln 2, ln 10, ln 5).
// With q_b the weighted, smoothed target row (C = 4 classes)
//
//   dense targets:  q_bc = w_c * ((1 - eps) * t_bc + eps / C)
//   class ids:      q_bc = w_c * ((1 - eps) * [c == y_b] + eps / C), 0 if ignored
//
//   l_b = sum_c q_bc * (-log p_c)        d l_b / d x_b = p * sum_c q_bc - q_b
//   mean = sum_b l_b / D, with D = B for dense targets and
//          D = sum of w_{y_b} over the samples not ignored for class ids.
//
// These are the formulas of the torch.nn.CrossEntropyLoss documentation; the
// expected numbers were derived from them by hand, not by running PyTorch.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "autograd_checks.hpp"
#include "tapegrad.hpp"

using namespace tapegrad;
using autograd_checks::check_gradients;

namespace {

const double kLn2 = std::log(2.0);
const double kLn5 = std::log(5.0);
const double kLn10 = std::log(10.0);

// Logits of `rows` rows with softmax (0.2, 0.5, 0.1, 0.2).
template <class T>
Tensor<T> exact_logits(std::size_t rows) {
  Tensor<T> logits = Tensor<T>::from_shape({rows, 4});
  for (std::size_t b = 0; b < rows; ++b) {
    logits(b, 0) = static_cast<T>(kLn2);
    logits(b, 1) = static_cast<T>(kLn5);
    logits(b, 2) = T(0);
    logits(b, 3) = static_cast<T>(kLn2);
  }
  return logits;
}

// The largest |a - b| over all elements, or infinity when the shapes differ.
template <class T>
double max_difference(const Tensor<T>& a, const Tensor<double>& b) {
  return autograd_checks::max_abs_difference(a, b);
}

// Tolerance of a float result against a double one.
template <class T>
constexpr double kTolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;

template <class T>
Tensor<T> scalar(double value) {
  return Tensor<T>(static_cast<T>(value));
}

const std::vector<double> kWeights = {1, 2, 0.5, 4};

}  // namespace

// ---------------------------------------------------------------------------
// Sparse loss by hand.

TEST_CASE_TEMPLATE("sparse default options match plain form", T, float, double) {
  Generator generator(5);
  const Tensor<T> logits = generator.uniform_tensor<T>({5, 7}, -3, 3);
  const Tensor<int> labels = {0, 6, 3, 3, 1};

  const Tensor<T> loss = sparse_softmax_cross_entropy(logits, labels, {});
  CHECK(loss.dimension() == 0);
  // Equal up to rounding: the compiler may contract the two forms' sums into
  // fused multiply-adds differently.
  CHECK(loss() ==
        doctest::Approx(sparse_softmax_cross_entropy(logits, labels)).epsilon(kTolerance<T>));

  const Tensor<T> gradient =
      sparse_softmax_cross_entropy_backward(scalar<T>(1.5), logits, labels, CrossEntropyOptions{});
  const Tensor<T> plain_gradient = sparse_softmax_cross_entropy_backward(1.5, logits, labels);
  CHECK(max_difference(gradient, xt::cast<double>(plain_gradient)) <= kTolerance<T>);
}

TEST_CASE_TEMPLATE("sparse reductions by hand", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(3);
  const Tensor<std::int64_t> labels = {1, 3, 2};

  // l = (-log p_1, -log p_3, -log p_2) = (ln 2, ln 5, ln 10).
  const Tensor<T> none =
      sparse_softmax_cross_entropy(logits, labels, {.reduction = Reduction::none});
  CHECK(max_difference(none, Tensor<double>{kLn2, kLn5, kLn10}) <= kTolerance<T>);

  // sum = ln 2 + ln 5 + ln 10 = ln 100 = 4.605170; mean = ln 100 / 3 = 1.535057.
  const Tensor<T> sum = sparse_softmax_cross_entropy(logits, labels, {.reduction = Reduction::sum});
  CHECK(sum.dimension() == 0);
  CHECK(sum() == doctest::Approx(4.605170186).epsilon(1e-6));
  const Tensor<T> mean =
      sparse_softmax_cross_entropy(logits, labels, {.reduction = Reduction::mean});
  CHECK(mean() == doctest::Approx(1.535056729).epsilon(1e-6));

  // none: dx_b = g_b * (p - onehot(y_b)) with g = (1, -2, 0.5), so every
  // element of grad_output shows in its own row.
  const Tensor<T> grad_output = {T(1), T(-2), T(0.5)};
  const Tensor<double> expected_none = {
      {0.2, -0.5, 0.1, 0.2}, {-0.4, -1.0, -0.2, 1.6}, {0.1, 0.25, -0.45, 0.1}};
  CHECK(max_difference(sparse_softmax_cross_entropy_backward(grad_output, logits, labels,
                                                             {.reduction = Reduction::none}),
                       expected_none) <= kTolerance<T>);

  // sum: dx_b = g * (p - onehot(y_b)) with g = 2, no division by B.
  const Tensor<double> expected_sum = {
      {0.4, -1.0, 0.2, 0.4}, {0.4, 1.0, 0.2, -1.6}, {0.4, 1.0, -1.8, 0.4}};
  CHECK(max_difference(sparse_softmax_cross_entropy_backward(scalar<T>(2), logits, labels,
                                                             {.reduction = Reduction::sum}),
                       expected_sum) <= kTolerance<T>);
}

TEST_CASE_TEMPLATE("sparse class weights by hand", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(3);
  const Tensor<std::int64_t> labels = {1, 3, 2};
  const CrossEntropyOptions options{.class_weights = kWeights};

  // w = (1, 2, 0.5, 4): l = (w_1 ln 2, w_3 ln 5, w_2 ln 10)
  //                       = (2 ln 2, 4 ln 5, 0.5 ln 10) = (1.386294, 6.437752, 1.151293).
  // D = w_1 + w_3 + w_2 = 6.5, so mean = 8.975339 / 6.5 = 1.380821, where an
  // unweighted mean over 3 rows would give 2.991780.
  CHECK(sparse_softmax_cross_entropy(logits, labels, options)() ==
        doctest::Approx(1.380821317).epsilon(1e-6));
  const CrossEntropyOptions none{.reduction = Reduction::none, .class_weights = kWeights};
  CHECK(max_difference(sparse_softmax_cross_entropy(logits, labels, none),
                       Tensor<double>{2 * kLn2, 4 * kLn5, 0.5 * kLn10}) <= kTolerance<T>);
  const CrossEntropyOptions sum{.reduction = Reduction::sum, .class_weights = kWeights};
  CHECK(sparse_softmax_cross_entropy(logits, labels, sum)() ==
        doctest::Approx(8.975338557).epsilon(1e-6));

  // mean: dx_b = w_{y_b} / D * (p - onehot(y_b)).
  const Tensor<double> expected = {
      {2 / 6.5 * 0.2, 2 / 6.5 * -0.5, 2 / 6.5 * 0.1, 2 / 6.5 * 0.2},
      {4 / 6.5 * 0.2, 4 / 6.5 * 0.5, 4 / 6.5 * 0.1, 4 / 6.5 * -0.8},
      {0.5 / 6.5 * 0.2, 0.5 / 6.5 * 0.5, 0.5 / 6.5 * -0.9, 0.5 / 6.5 * 0.2}};
  CHECK(max_difference(sparse_softmax_cross_entropy_backward(scalar<T>(1), logits, labels, options),
                       expected) <= kTolerance<T>);
}

TEST_CASE_TEMPLATE("sparse ignore_index by hand", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(3);

  SUBCASE("ignored rows leave the loss, gradient and mean") {
    const Tensor<std::int64_t> labels = {1, -100, 2};
    const CrossEntropyOptions options{.ignore_index = -100};
    // mean = (ln 2 + ln 10) / 2 = ln 20 / 2 = 1.497866: D counts 2 rows, not 3.
    CHECK(sparse_softmax_cross_entropy(logits, labels, options)() ==
          doctest::Approx(1.497866137).epsilon(1e-6));
    const Tensor<double> expected = {
        {0.1, -0.25, 0.05, 0.1}, {0, 0, 0, 0}, {0.1, 0.25, -0.45, 0.1}};
    CHECK(
        max_difference(sparse_softmax_cross_entropy_backward(scalar<T>(1), logits, labels, options),
                       expected) <= kTolerance<T>);

    const CrossEntropyOptions none{.reduction = Reduction::none, .ignore_index = -100};
    CHECK(max_difference(sparse_softmax_cross_entropy(logits, labels, none),
                         Tensor<double>{kLn2, 0, kLn10}) <= kTolerance<T>);
  }
  SUBCASE("an ignore_index inside the class range") {
    // Label 1 is ignored, so only row 1 (bus, ln 5) counts.
    const Tensor<int> labels = {1, 3, 1};
    CHECK(sparse_softmax_cross_entropy(logits, labels, {.ignore_index = 1})() ==
          doctest::Approx(kLn5).epsilon(1e-6));
  }
  SUBCASE("ignored labels are not range-checked, the others are") {
    const Tensor<double> labels = {7.0, 0.0, 7.0};
    // Only row 1 (car, ln 5) counts.
    CHECK(sparse_softmax_cross_entropy(logits, labels, {.ignore_index = 7})() ==
          doctest::Approx(kLn5).epsilon(1e-6));
    CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy(logits, labels, {.ignore_index = 9}),
                         "sparse_softmax_cross_entropy: label 7 in row 0 is out of range [0, 4)",
                         ValueError);
  }
  SUBCASE("unsigned labels never match a negative ignore_index") {
    const Tensor<std::uint8_t> labels = {1, 3, 2};
    CHECK(sparse_softmax_cross_entropy(logits, labels, {.ignore_index = -100})() ==
          doctest::Approx(1.535056729).epsilon(1e-6));
  }
}

TEST_CASE_TEMPLATE("sparse batch of only ignored samples", T, float, double) {
  // PyTorch returns NaN here (0 / 0); tapegrad returns 0 with a zero
  // gradient, for every reduction.
  const Tensor<T> logits = exact_logits<T>(2);
  const Tensor<int> labels = {-100, -100};
  for (const Reduction reduction : {Reduction::mean, Reduction::sum}) {
    CAPTURE(to_string(reduction));
    const CrossEntropyOptions options{.reduction = reduction, .ignore_index = -100};
    CHECK(sparse_softmax_cross_entropy(logits, labels, options)() == T(0));
    const Tensor<T> gradient =
        sparse_softmax_cross_entropy_backward(scalar<T>(3), logits, labels, options);
    CHECK(xt::all(xt::equal(gradient, T(0))));
  }
  const CrossEntropyOptions none{.reduction = Reduction::none, .ignore_index = -100};
  CHECK(sparse_softmax_cross_entropy(logits, labels, none) == Tensor<T>{0, 0});

  // Counted samples whose class weight is 0 give D = 0 too, and the same 0.
  const Tensor<int> car_labels = {0, 0};
  const CrossEntropyOptions weightless{.class_weights = {0, 1, 1, 1}, .label_smoothing = 0.1};
  CHECK(sparse_softmax_cross_entropy(logits, car_labels, weightless)() == T(0));
}

TEST_CASE_TEMPLATE("sparse label smoothing by hand", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(1);
  const Tensor<int> labels = {1};
  const CrossEntropyOptions options{.label_smoothing = 0.2};

  // eps = 0.2, C = 4: q = 0.8 * onehot(1) + 0.05 = (0.05, 0.85, 0.05, 0.05).
  // l = 0.8 * ln 2 + 0.05 * (ln 5 + ln 2 + ln 10 + ln 5) = 0.8 ln 2 + 0.05 ln 500
  //   = 0.554518 + 0.310730 = 0.865248.
  CHECK(sparse_softmax_cross_entropy(logits, labels, options)() ==
        doctest::Approx(0.8652481494).epsilon(1e-6));

  // sum_c q_c = 1, so dx = p - q = (0.15, -0.35, 0.05, 0.15).
  CHECK(max_difference(sparse_softmax_cross_entropy_backward(scalar<T>(1), logits, labels, options),
                       Tensor<double>{{0.15, -0.35, 0.05, 0.15}}) <= kTolerance<T>);
}

TEST_CASE_TEMPLATE("sparse weights, ignore_index and smoothing together", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(3);
  const Tensor<std::int64_t> labels = {1, -100, 3};
  const CrossEntropyOptions options{
      .class_weights = kWeights, .ignore_index = -100, .label_smoothing = 0.2};

  // q_bc = w_c * (0.8 * [c == y_b] + 0.05) with w = (1, 2, 0.5, 4):
  //   row 0, y = 1: q = (0.05, 1.7, 0.025, 0.2)
  //     l_0 = 0.05 ln 5 + 1.7 ln 2 + 0.025 ln 10 + 0.2 ln 5 = 1.638274
  //   row 1 is ignored: l_1 = 0
  //   row 2, y = 3: q = (0.05, 0.1, 0.025, 3.4)
  //     l_2 = 0.05 ln 5 + 0.1 ln 2 + 0.025 ln 10 + 3.4 ln 5 = 5.679440
  // D = w_1 + w_3 = 6, the weights of the labels alone, not the sums of q:
  //   mean = (1.638274 + 5.679440) / 6 = 1.219619.
  CHECK(sparse_softmax_cross_entropy(logits, labels, options)() ==
        doctest::Approx(1.219619076).epsilon(1e-6));
  const CrossEntropyOptions none{.reduction = Reduction::none,
                                 .class_weights = kWeights,
                                 .ignore_index = -100,
                                 .label_smoothing = 0.2};
  CHECK(max_difference(sparse_softmax_cross_entropy(logits, labels, none),
                       Tensor<double>{1.6382743124, 0, 5.6794401433}) <= 1e-6);

  // dx_b = (p * sum_c q_bc - q_b) / 6:
  //   row 0: sum q = 1.975, p * 1.975 - q = (0.345, -0.7125, 0.1725, 0.195)
  //   row 2: sum q = 3.575, p * 3.575 - q = (0.665, 1.6875, 0.3325, -2.685)
  const Tensor<double> expected = {{0.345 / 6, -0.7125 / 6, 0.1725 / 6, 0.195 / 6},
                                   {0, 0, 0, 0},
                                   {0.665 / 6, 1.6875 / 6, 0.3325 / 6, -2.685 / 6}};
  CHECK(max_difference(sparse_softmax_cross_entropy_backward(scalar<T>(1), logits, labels, options),
                       expected) <= kTolerance<T>);
}

// ---------------------------------------------------------------------------
// Dense loss by hand.

TEST_CASE_TEMPLATE("dense default options match plain form", T, float, double) {
  Generator generator(6);
  const Tensor<T> logits = generator.uniform_tensor<T>({4, 5}, -3, 3);
  const Tensor<T> targets = generator.uniform_tensor<T>({4, 5}, 0, 1);

  const Tensor<T> loss = softmax_cross_entropy(logits, targets, {});
  CHECK(loss.dimension() == 0);
  CHECK(loss() == doctest::Approx(softmax_cross_entropy(logits, targets)).epsilon(kTolerance<T>));

  const Tensor<T> gradient =
      softmax_cross_entropy_backward(scalar<T>(-0.5), logits, targets, CrossEntropyOptions{});
  const Tensor<T> plain_gradient = softmax_cross_entropy_backward(-0.5, logits, targets);
  CHECK(max_difference(gradient, xt::cast<double>(plain_gradient)) <= kTolerance<T>);
}

TEST_CASE_TEMPLATE("dense reductions and class weights by hand", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(2);
  const Tensor<T> targets = {{T(0.5), T(0.5), 0, 0}, {0, 0, T(0.25), T(0.75)}};

  SUBCASE("unweighted") {
    // l_0 = 0.5 ln 5 + 0.5 ln 2 = 1.151293, l_1 = 0.25 ln 10 + 0.75 ln 5 = 1.782702.
    const Tensor<double> losses = {0.5 * kLn5 + 0.5 * kLn2, 0.25 * kLn10 + 0.75 * kLn5};
    CHECK(max_difference(softmax_cross_entropy(logits, targets, {.reduction = Reduction::none}),
                         losses) <= kTolerance<T>);
    CHECK(softmax_cross_entropy(logits, targets, {.reduction = Reduction::sum})() ==
          doctest::Approx(losses(0) + losses(1)).epsilon(1e-6));
  }
  SUBCASE("weighted, with the mean over B") {
    // w = (1, 2, 0.5, 4): q_0 = (0.5, 1, 0, 0), q_1 = (0, 0, 0.125, 3).
    //   l_0 = 0.5 ln 5 + 1 ln 2 = 1.497866, l_1 = 0.125 ln 10 + 3 ln 5 = 5.116137.
    // For probability targets PyTorch's mean divides by B = 2, not by the
    // weights: mean = 6.614003 / 2 = 3.307002.
    const CrossEntropyOptions options{.class_weights = kWeights};
    CHECK(softmax_cross_entropy(logits, targets, options)() ==
          doctest::Approx(3.307001505).epsilon(1e-6));
    const CrossEntropyOptions sum{.reduction = Reduction::sum, .class_weights = kWeights};
    CHECK(softmax_cross_entropy(logits, targets, sum)() ==
          doctest::Approx(6.614003011).epsilon(1e-6));

    // dx_b = (p * sum_c q_bc - q_b) / 2, with sum q_0 = 1.5 and sum q_1 = 3.125.
    const Tensor<double> expected = {{-0.1, -0.125, 0.075, 0.15},
                                     {0.3125, 0.78125, 0.09375, -1.1875}};
    CHECK(max_difference(softmax_cross_entropy_backward(scalar<T>(1), logits, targets, options),
                         expected) <= kTolerance<T>);

    // none with g = (2, -1): dx_b = g_b * (p * sum_c q_bc - q_b).
    const CrossEntropyOptions none{.reduction = Reduction::none, .class_weights = kWeights};
    const Tensor<T> grad_output = {T(2), T(-1)};
    const Tensor<double> expected_none = {{-0.4, -0.5, 0.3, 0.6},
                                          {-0.625, -1.5625, -0.1875, 2.375}};
    CHECK(max_difference(softmax_cross_entropy_backward(grad_output, logits, targets, none),
                         expected_none) <= kTolerance<T>);
  }
}

TEST_CASE_TEMPLATE("dense label smoothing with weights by hand", T, float, double) {
  const Tensor<T> logits = exact_logits<T>(2);
  const Tensor<T> targets = {{T(0.5), T(0.5), 0, 0}, {0, 0, T(0.25), T(0.75)}};

  // eps = 0.2: row 0 becomes 0.8 * t + 0.05 = (0.45, 0.45, 0.05, 0.05), and
  //   l_0 = 0.45 ln 5 + 0.45 ln 2 + 0.05 ln 10 + 0.05 ln 5 = 1.231764.
  const CrossEntropyOptions smoothing{.reduction = Reduction::none, .label_smoothing = 0.2};
  CHECK(softmax_cross_entropy(logits, targets, smoothing)(0) ==
        doctest::Approx(1.231764442).epsilon(1e-6));

  // With w = (1, 2, 0.5, 4) too, q_bc = w_c * (0.8 * t_bc + 0.05):
  //   q_0 = (0.45, 0.9, 0.025, 0.2)    l_0 = 1.727532
  //   q_1 = (0.05, 0.1, 0.125, 2.6)    l_1 = 4.622148
  //   mean = (1.727532 + 4.622148) / 2 = 3.174840
  const CrossEntropyOptions options{.class_weights = kWeights, .label_smoothing = 0.2};
  CHECK(softmax_cross_entropy(logits, targets, options)() ==
        doctest::Approx(3.174840028).epsilon(1e-6));

  // dx_b = (p * sum_c q_bc - q_b) / 2, sum q_0 = 1.575, sum q_1 = 2.875.
  const Tensor<double> expected = {{(0.2 * 1.575 - 0.45) / 2, (0.5 * 1.575 - 0.9) / 2,
                                    (0.1 * 1.575 - 0.025) / 2, (0.2 * 1.575 - 0.2) / 2},
                                   {(0.2 * 2.875 - 0.05) / 2, (0.5 * 2.875 - 0.1) / 2,
                                    (0.1 * 2.875 - 0.125) / 2, (0.2 * 2.875 - 2.6) / 2}};
  CHECK(max_difference(softmax_cross_entropy_backward(scalar<T>(1), logits, targets, options),
                       expected) <= kTolerance<T>);
}

// ---------------------------------------------------------------------------
// Numerics with options.

TEST_CASE_TEMPLATE("options keep -inf logits finite where q is 0", T, float, double) {
  const T inf = std::numeric_limits<T>::infinity();
  const Tensor<T> logits = {{-inf, 1, 2, -inf}};

  // Class 0 has weight 0 and class 3 target 0, so neither term counts:
  // l = 2 * (ln(e + e^2) - 1) for the label 1 of weight 2.
  const Tensor<int> labels = {1};
  const CrossEntropyOptions weights{.class_weights = {0, 2, 1, 1}};
  const double expected = 2 * (std::log(std::exp(1.0) + std::exp(2.0)) - 1);
  const CrossEntropyOptions sum{.reduction = Reduction::sum, .class_weights = {0, 2, 1, 1}};
  CHECK(sparse_softmax_cross_entropy(logits, labels, sum)() ==
        doctest::Approx(expected).epsilon(1e-6));
  const Tensor<T> gradient =
      sparse_softmax_cross_entropy_backward(scalar<T>(1), logits, labels, weights);
  CHECK(gradient(0, 0) == T(0));
  CHECK(gradient(0, 3) == T(0));

  // With smoothing, every class of non-zero weight gets target mass, so the
  // -inf logit of class 3 makes the loss +inf. The gradient stays finite.
  const CrossEntropyOptions smoothing{.class_weights = {0, 2, 1, 1}, .label_smoothing = 0.1};
  CHECK(sparse_softmax_cross_entropy(logits, labels, smoothing)() == inf);
  CHECK(xt::all(xt::isfinite(
      sparse_softmax_cross_entropy_backward(scalar<T>(1), logits, labels, smoothing))));
  const Tensor<T> targets = {{0, T(0.5), T(0.5), 0}};
  CHECK(softmax_cross_entropy(logits, targets, smoothing)() == inf);
}

TEST_CASE("options keep float precision near 1e8") {
  // Every value is exact in float: the spacing of floats near 1e8 is 8.
  const Tensor<float> small = {{0, 8, -8, 16}, {16, 0, 8, 8}};
  const Tensor<float> large = small + 1e8f;
  const Tensor<int> labels = {1, 3};
  const CrossEntropyOptions options{
      .reduction = Reduction::none, .class_weights = {1, 2, 0.5, 4}, .label_smoothing = 0.1};
  const Tensor<float> expected = sparse_softmax_cross_entropy(small, labels, options);
  CHECK(xt::allclose(sparse_softmax_cross_entropy(large, labels, options), expected, 1e-6, 1e-6));

  const Tensor<float> targets = {{0.25f, 0.75f, 0, 0}, {0, 0, 0.5f, 0.5f}};
  CHECK(xt::allclose(softmax_cross_entropy(large, targets, options),
                     softmax_cross_entropy(small, targets, options), 1e-6, 1e-6));
}

TEST_CASE("options mean of losses near the float maximum is finite") {
  // Each weighted loss is 1 * (0 - (-3e38)) = 3e38; a float sum of four would
  // overflow, and the mean divides each before adding.
  const Tensor<float> logits = {{0, -3e38f}, {0, -3e38f}, {0, -3e38f}, {0, -3e38f}};
  const Tensor<int> labels = {1, 1, 1, 1};
  const CrossEntropyOptions options{.class_weights = {2, 1}};
  const Tensor<float> loss = sparse_softmax_cross_entropy(logits, labels, options);
  CHECK(std::isfinite(loss()));
  CHECK(loss() == doctest::Approx(3e38).epsilon(1e-6));
}

// ---------------------------------------------------------------------------
// Graph nodes.

TEST_CASE("option nodes return the tensor forms' values") {
  Generator generator(7);
  const Tensor<double> logits = generator.uniform_tensor<double>({4, 3}, -2, 2);
  const Tensor<double> targets = generator.uniform_tensor<double>({4, 3}, 0, 1);
  const Tensor<int> labels = {2, -1, 0, 1};
  const CrossEntropyOptions options{.reduction = Reduction::none,
                                    .class_weights = {0.5, 1, 3},
                                    .ignore_index = -1,
                                    .label_smoothing = 0.3};
  const Variable<double> x(logits, true);

  const Variable<double> sparse = sparse_softmax_cross_entropy(x, labels, options);
  CHECK(sparse.value() == sparse_softmax_cross_entropy(logits, labels, options));
  const CrossEntropyOptions dense_options{
      .reduction = Reduction::none, .class_weights = {0.5, 1, 3}, .label_smoothing = 0.3};
  const Variable<double> dense = softmax_cross_entropy(x, targets, dense_options);
  CHECK(dense.value() == softmax_cross_entropy(logits, targets, dense_options));

  // backward with a [B] upstream gradient matches the tensor backward.
  const Tensor<double> grad_output = {1.0, -2.0, 0.5, 3.0};
  sparse.backward(grad_output);
  CHECK(xt::allclose(x.grad(),
                     sparse_softmax_cross_entropy_backward(grad_output, logits, labels, options),
                     1e-14, 1e-15));
}

TEST_CASE("sparse option nodes pass gradcheck") {
  Generator generator(8);
  const Tensor<double> logits = generator.uniform_tensor<double>({5, 4}, -3, 3);
  const Tensor<std::int64_t> labels = {3, -100, 0, 2, 2};
  const std::vector<double> weights = {0.5, 2, 1.5, 3};
  GradcheckOptions upstream;
  upstream.grad_output = Tensor<double>(-1.7);

  const std::vector<CrossEntropyOptions> cases = {
      {.reduction = Reduction::none, .ignore_index = -100},
      {.reduction = Reduction::sum, .ignore_index = -100},
      {.reduction = Reduction::mean, .ignore_index = -100},
      {.class_weights = weights, .ignore_index = -100},
      {.reduction = Reduction::none, .class_weights = weights, .ignore_index = -100},
      {.ignore_index = -100, .label_smoothing = 0.25},
      {.reduction = Reduction::none, .ignore_index = -100, .label_smoothing = 0.25},
      {.reduction = Reduction::sum,
       .class_weights = weights,
       .ignore_index = -100,
       .label_smoothing = 0.1},
      {.class_weights = weights, .ignore_index = -100, .label_smoothing = 0.1},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CrossEntropyOptions& options = cases[i];
    CAPTURE(i);
    CAPTURE(to_string(options.reduction));
    auto loss = [&](const std::vector<Variable<double>>& x) {
      return sparse_softmax_cross_entropy(x[0], labels, options);
    };
    // none draws a random [B] upstream gradient, and mean and sum get -1.7.
    if (options.reduction == Reduction::none) {
      check_gradients(loss, {logits});
    } else {
      check_gradients(loss, {logits}, upstream);
    }
  }
}

TEST_CASE("dense option nodes pass gradcheck") {
  Generator generator(9);
  const Tensor<double> logits = generator.uniform_tensor<double>({3, 5}, -3, 3);
  const Tensor<double> targets = generator.uniform_tensor<double>({3, 5}, 0, 1);
  const std::vector<double> weights = {0.5, 2, 1.5, 3, 0};
  GradcheckOptions upstream;
  upstream.grad_output = Tensor<double>(2.5);

  const std::vector<CrossEntropyOptions> cases = {
      {.reduction = Reduction::none},
      {.reduction = Reduction::sum},
      {.class_weights = weights},
      {.reduction = Reduction::none, .class_weights = weights},
      {.label_smoothing = 0.4},
      {.reduction = Reduction::sum, .class_weights = weights, .label_smoothing = 0.1},
      {.reduction = Reduction::none, .class_weights = weights, .label_smoothing = 0.1},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CrossEntropyOptions& options = cases[i];
    CAPTURE(i);
    CAPTURE(to_string(options.reduction));
    auto loss = [&](const std::vector<Variable<double>>& x) {
      return softmax_cross_entropy(x[0], targets, options);
    };
    if (options.reduction == Reduction::none) {
      check_gradients(loss, {logits});
    } else {
      check_gradients(loss, {logits}, upstream);
    }
  }
}

TEST_CASE("option nodes cache their options") {
  // Changing the caller's options after the forward pass must not change the
  // gradient, because the node keeps its own copy.
  const Tensor<double> logits = exact_logits<double>(1);
  const Tensor<int> labels = {1};
  CrossEntropyOptions options{.label_smoothing = 0.2};
  const Variable<double> x(logits, true);
  const Variable<double> loss = sparse_softmax_cross_entropy(x, labels, options);
  options.label_smoothing = 0;
  options.class_weights = {9, 9, 9, 9};
  loss.backward();
  // p - q with q = (0.05, 0.85, 0.05, 0.05), as in the smoothing case above.
  CHECK(max_difference(x.grad(), Tensor<double>{{0.15, -0.35, 0.05, 0.15}}) <= 1e-12);
}

// ---------------------------------------------------------------------------
// Invalid options.

TEST_CASE("invalid label_smoothing throws naming the value") {
  const Tensor<float> logits = exact_logits<float>(2);
  const Tensor<int> labels = {0, 1};
  const Tensor<float> targets = {{1, 0, 0, 0}, {0, 1, 0, 0}};

  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy(logits, labels, {.label_smoothing = 1.5}),
                       "sparse_softmax_cross_entropy: label_smoothing is 1.5; it must be in "
                       "[0, 1)",
                       ValueError);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, targets, {.label_smoothing = -0.1}),
                       "softmax_cross_entropy: label_smoothing is -0.1; it must be in [0, 1)",
                       ValueError);
  CHECK_THROWS_WITH_AS(
      sparse_softmax_cross_entropy(logits, labels,
                                   {.label_smoothing = std::numeric_limits<double>::quiet_NaN()}),
      "sparse_softmax_cross_entropy: label_smoothing is nan; it must be in [0, 1)", ValueError);
  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy(logits, labels, {.label_smoothing = 1.0}),
                       "sparse_softmax_cross_entropy: label_smoothing is 1; it must be in [0, 1)",
                       ValueError);
  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy_backward(Tensor<float>(1.0f), logits, labels,
                                                             {.label_smoothing = 2}),
                       "sparse_softmax_cross_entropy_backward: label_smoothing is 2; it must be "
                       "in [0, 1)",
                       ValueError);
}

TEST_CASE("invalid class_weights throw naming the value") {
  const Tensor<double> logits = exact_logits<double>(2);
  const Tensor<int> labels = {0, 1};
  const Tensor<double> targets = {{1, 0, 0, 0}, {0, 1, 0, 0}};

  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy(logits, labels, {.class_weights = {1, 2, 3}}),
                       "sparse_softmax_cross_entropy: class_weights has 3 elements but the logits "
                       "have 4 classes; pass one weight per class",
                       ShapeError);
  CHECK_THROWS_WITH_AS(
      softmax_cross_entropy_backward(Tensor<double>(1.0), logits, targets,
                                     {.class_weights = {1, 2, 3, 4, 5}}),
      "softmax_cross_entropy_backward: class_weights has 5 elements but the logits have 4 "
      "classes; pass one weight per class",
      ShapeError);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, targets, {.class_weights = {1, -0.5, 1, 1}}),
                       "softmax_cross_entropy: class_weights[1] is -0.5; class weights must be "
                       "finite and at least 0",
                       ValueError);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(
      sparse_softmax_cross_entropy(logits, labels, {.class_weights = {1, 1, nan, 1}}),
      "sparse_softmax_cross_entropy: class_weights[2] is nan; class weights must "
      "be finite and at least 0",
      ValueError);
  CHECK_THROWS_WITH_AS(
      sparse_softmax_cross_entropy(logits, labels, {.class_weights = {1, 1, 1, inf}}),
      "sparse_softmax_cross_entropy: class_weights[3] is inf; class weights must "
      "be finite and at least 0",
      ValueError);

  // The graph forms check the same way.
  const Variable<double> x(logits, true);
  CHECK_THROWS_AS(sparse_softmax_cross_entropy(x, labels, {.class_weights = {1, 2}}), ShapeError);
  CHECK_THROWS_AS(softmax_cross_entropy(x, targets, {.label_smoothing = 1.5}), ValueError);
}

TEST_CASE("grad_output of the wrong shape for the reduction throws") {
  const Tensor<float> logits = exact_logits<float>(3);
  const Tensor<int> labels = {0, 1, 2};
  const Tensor<float> targets = xt::ones<float>({3, 4}) / 4.0f;
  const CrossEntropyOptions none{.reduction = Reduction::none};

  CHECK_THROWS_WITH_AS(
      sparse_softmax_cross_entropy_backward(Tensor<float>(1.0f), logits, labels, none),
      "sparse_softmax_cross_entropy_backward: grad_output is [] but reduction "
      "none returns [batch] = [3]; pass one upstream gradient per sample",
      ShapeError);
  CHECK_THROWS_WITH_AS(
      softmax_cross_entropy_backward(Tensor<float>{1, 2, 3, 4}, logits, targets, none),
      "softmax_cross_entropy_backward: grad_output is [4] but reduction none "
      "returns [batch] = [3]; pass one upstream gradient per sample",
      ShapeError);
  const Tensor<float> column = xt::ones<float>({3, 1});
  CHECK_THROWS_AS(sparse_softmax_cross_entropy_backward(column, logits, labels, none), ShapeError);

  const Tensor<float> per_sample = {1, 2, 3};
  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy_backward(per_sample, logits, labels,
                                                             {.reduction = Reduction::mean}),
                       "sparse_softmax_cross_entropy_backward: grad_output is [3] but reduction "
                       "mean returns a scalar; pass a scalar or a one-element tensor",
                       ShapeError);
  CHECK_THROWS_WITH_AS(
      softmax_cross_entropy_backward(per_sample, logits, targets, {.reduction = Reduction::sum}),
      "softmax_cross_entropy_backward: grad_output is [3] but reduction sum "
      "returns a scalar; pass a scalar or a one-element tensor",
      ShapeError);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(
      sparse_softmax_cross_entropy_backward(Tensor<float>{1, nan, 3}, logits, labels, none),
      "sparse_softmax_cross_entropy_backward: grad_output[1] is nan; every "
      "element must be a finite number",
      ValueError);
  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy_backward(Tensor<float>(nan), logits, labels,
                                                             {.reduction = Reduction::sum}),
                       "sparse_softmax_cross_entropy_backward: grad_output is nan; it must be a "
                       "finite number",
                       ValueError);
}

TEST_CASE("other invalid options throw naming the value") {
  const Tensor<double> logits = exact_logits<double>(2);
  const Tensor<double> targets = {{1, 0, 0, 0}, {0, 1, 0, 0}};
  const Tensor<int> labels = {0, 1};

  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, targets, {.ignore_index = -100}),
                       "softmax_cross_entropy: ignore_index is -100, but it applies only to class "
                       "labels; leave it unset for dense targets, or use "
                       "sparse_softmax_cross_entropy",
                       ValueError);

  const CrossEntropyOptions invalid{.reduction = static_cast<Reduction>(7)};
  CHECK(std::string(to_string(invalid.reduction)) == "invalid");
  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy(logits, labels, invalid),
                       "sparse_softmax_cross_entropy: reduction 7 is invalid; use "
                       "Reduction::mean, Reduction::sum or Reduction::none",
                       ValueError);

  // A mean gradient of g / D beyond the largest double.
  const CrossEntropyOptions tiny{.class_weights = {1e-300, 1e-300, 1, 1}};
  CHECK_THROWS_WITH_AS(
      sparse_softmax_cross_entropy_backward(Tensor<double>(1e300), logits, labels, tiny),
      "sparse_softmax_cross_entropy_backward: grad_output 1e+300 divided by the "
      "summed weight 2e-300 overflows; use larger class weights or a smaller "
      "grad_output",
      ValueError);
}
