// The graph forms of the losses: values, gradcheck through each node with
// upstream gradients other than 1, caching, and their names on the tape.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// Probability rows: positive, each summing to 1.
Tensor<double> random_targets(Generator& generator, std::size_t batch_size, std::size_t classes) {
  Tensor<double> targets = generator.uniform_tensor<double>({batch_size, classes}, 0.1, 1.0);
  for (std::size_t b = 0; b < batch_size; ++b) {
    double row_sum = 0;
    for (std::size_t c = 0; c < classes; ++c) row_sum += targets(b, c);
    for (std::size_t c = 0; c < classes; ++c) targets(b, c) /= row_sum;
  }
  return targets;
}

GradcheckOptions upstream(double grad_output) {
  GradcheckOptions options;
  options.grad_output = Tensor<double>(grad_output);
  return options;
}

}  // namespace

TEST_CASE("loss nodes return the tensor forms' values") {
  Generator generator(1);
  const Tensor<double> logits = generator.uniform_tensor<double>({4, 5}, -3, 3);
  const Tensor<double> targets = random_targets(generator, 4, 5);
  const Tensor<std::int64_t> labels = {0, 4, 2, 2};
  const Variable<double> x(logits, true);

  const Variable<double> dense = softmax_cross_entropy(x, targets);
  CHECK(dense.shape().size() == 0);
  CHECK(dense.value()() == softmax_cross_entropy(logits, targets));
  CHECK(sparse_softmax_cross_entropy(x, labels).value()() ==
        sparse_softmax_cross_entropy(logits, labels));
  const Tensor<double> probabilities = generator.uniform_tensor<double>({4, 5}, 0, 1);
  CHECK(sigmoid_cross_entropy(x, probabilities).value()() ==
        sigmoid_cross_entropy(logits, probabilities));
  CHECK(mean_squared_error(x, probabilities).value()() ==
        mean_squared_error(logits, probabilities));
}

TEST_CASE("loss nodes pass gradcheck with upstream gradients other than 1") {
  Generator generator(2);
  const Tensor<double> logits = generator.uniform_tensor<double>({3, 5}, -4, 4);
  const Tensor<double> targets = random_targets(generator, 3, 5);
  const Tensor<int> labels = {1, 4, 0};
  const Tensor<double> probabilities = generator.uniform_tensor<double>({3, 5}, 0, 1);

  for (const double grad_output : {1.0, -0.7, 2.5}) {
    CAPTURE(grad_output);
    SUBCASE("softmax_cross_entropy") {
      const GradcheckResult result = gradcheck(
          [&](const std::vector<Variable<double>>& x) { return softmax_cross_entropy(x[0], targets); },
          {logits}, upstream(grad_output));
      CAPTURE(result.message());
      CHECK(result.passed);
    }
    SUBCASE("sparse_softmax_cross_entropy") {
      const GradcheckResult result = gradcheck(
          [&](const std::vector<Variable<double>>& x) {
            return sparse_softmax_cross_entropy(x[0], labels);
          },
          {logits}, upstream(grad_output));
      CAPTURE(result.message());
      CHECK(result.passed);
    }
    SUBCASE("sigmoid_cross_entropy") {
      const GradcheckResult result = gradcheck(
          [&](const std::vector<Variable<double>>& x) {
            return sigmoid_cross_entropy(x[0], probabilities);
          },
          {logits}, upstream(grad_output));
      CAPTURE(result.message());
      CHECK(result.passed);
    }
    SUBCASE("mean_squared_error") {
      const GradcheckResult result = gradcheck(
          [&](const std::vector<Variable<double>>& x) {
            return mean_squared_error(x[0], probabilities);
          },
          {logits}, upstream(grad_output));
      CAPTURE(result.message());
      CHECK(result.passed);
    }
  }
}

TEST_CASE("loss node backward scales by the upstream gradient") {
  // Through a graph: L = 3 · loss, so d L / d logits = 3 · loss_backward(1).
  const Tensor<float> logits = {{1.0f, 2.0f, 0.5f}, {0.0f, -1.0f, 3.0f}};
  const Tensor<std::uint8_t> labels = {2, 0};
  const Variable<float> x(logits, true);
  const Variable<float> scaled = mul(sparse_softmax_cross_entropy(x, labels), 3.0);
  scaled.backward();

  const Tensor<float> expected = sparse_softmax_cross_entropy_backward(3.0, logits, labels);
  CHECK(xt::allclose(x.grad(), expected, 1e-6, 1e-7));
}

TEST_CASE("dense and sparse nodes agree on one-hot targets") {
  Generator generator(3);
  const Tensor<double> logits = generator.uniform_tensor<double>({4, 3}, -2, 2);
  const Tensor<double> labels = {2, 0, 1, 1};
  Tensor<double> one_hot = xt::zeros<double>({4, 3});
  for (std::size_t b = 0; b < 4; ++b) one_hot(b, static_cast<std::size_t>(labels(b))) = 1;

  const Variable<double> dense_input(logits, true);
  const Variable<double> sparse_input(logits, true);
  const Variable<double> dense = softmax_cross_entropy(dense_input, one_hot);
  const Variable<double> sparse = sparse_softmax_cross_entropy(sparse_input, labels);
  dense.backward();
  sparse.backward();

  CHECK(dense.value()() == doctest::Approx(sparse.value()()).epsilon(1e-14));
  CHECK(xt::allclose(dense_input.grad(), sparse_input.grad(), 1e-14, 1e-15));
}

TEST_CASE("loss node caches the targets it was given") {
  // Changing the caller's targets after the forward pass must not change
  // the gradient: the node keeps its own copy.
  Tensor<double> targets = {{0.25, 0.75}};
  const Variable<double> x(Tensor<double>{{0.0, 0.0}}, true);
  const Variable<double> loss = softmax_cross_entropy(x, targets);
  targets = Tensor<double>{{1.0, 0.0}};
  loss.backward();
  // softmax = [0.5, 0.5]; gradient = softmax · 1 − t = [0.25, −0.25].
  CHECK(x.grad() == Tensor<double>{{0.25, -0.25}});
}

TEST_CASE("loss nodes are named on the tape") {
  Tape tape;
  TapeScope scope(tape);
  const Variable<float> x(Tensor<float>{{1, 2, 3}}, true);
  const Variable<float> loss = sparse_softmax_cross_entropy(x, Tensor<int>{1});
  const Variable<float> dense = softmax_cross_entropy(x, Tensor<float>{{0, 1, 0}});
  const std::string printout = tape.to_string();
  CHECK(printout.find("sparse_softmax_cross_entropy") != std::string::npos);
  CHECK(printout.find(" softmax_cross_entropy") != std::string::npos);
}

TEST_CASE("loss nodes record nothing without grad") {
  Tape tape;
  TapeScope scope(tape);
  const Variable<float> x(Tensor<float>{{1, 2, 3}});
  const Variable<float> loss = sparse_softmax_cross_entropy(x, Tensor<int>{1});
  CHECK(loss.is_leaf());
  CHECK(tape.size() == 0);
}

TEST_CASE("loss nodes check their inputs like the tensor forms") {
  const Variable<float> x(Tensor<float>{{1, 2, 3}}, true);
  CHECK_THROWS_WITH_AS(sparse_softmax_cross_entropy(x, Tensor<int>{3}),
                       "sparse_softmax_cross_entropy: label 3 in row 0 is out of range [0, 3)",
                       ValueError);
  CHECK_THROWS_AS(softmax_cross_entropy(x, Tensor<float>{{1, 0}}), ShapeError);
  CHECK_THROWS_AS(mean_squared_error(x, Tensor<float>{1, 2, 3}), ShapeError);
  CHECK_THROWS_AS(sigmoid_cross_entropy(x, Tensor<float>{{0, 2, 0}}), ValueError);
}
