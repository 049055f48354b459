// Linear, Sequential, activation modules, Flatten and Dropout.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// L = sum(w · module(x)) for fixed weights w, as a scalar Variable.
Variable<double> weighted_output_sum(Module<double>& module, const Variable<double>& input,
                                     const Tensor<double>& weights) {
  return sum(mul(module(input), Variable<double>(weights)));
}

// Compares each parameter's gradient from backward with central differences
// of L, perturbing the parameter in place. Returns the largest absolute error.
double max_parameter_gradient_error(Module<double>& module, const Tensor<double>& input_values) {
  const Variable<double> input(input_values);
  Generator generator(17);
  const Tensor<double> output_shape_probe = module(input).value();
  const auto& shape = output_shape_probe.shape();
  const Tensor<double> weights =
      generator.uniform_tensor<double>(std::vector<std::size_t>(shape.begin(), shape.end()), -1, 1);

  module.zero_grad();
  weighted_output_sum(module, input, weights).backward();

  const double eps = 1e-6;
  double max_error = 0;
  for (NamedParameter<double>& named : module.named_parameters()) {
    for (std::size_t i = 0; i < named.parameter.value().size(); ++i) {
      double& value = named.parameter.mutable_value().flat(i);
      const double original = value;
      NoGradGuard no_grad;
      value = original + eps;
      const double plus = weighted_output_sum(module, input, weights).value()();
      value = original - eps;
      const double minus = weighted_output_sum(module, input, weights).value()();
      value = original;
      const double numerical = (plus - minus) / (2 * eps);
      max_error = std::max(max_error, std::abs(numerical - named.parameter.grad().flat(i)));
    }
  }
  return max_error;
}

}  // namespace

TEST_CASE("Linear computes x times weight transposed plus bias") {
  Generator generator(1);
  Linear<double> layer(3, 2, true, generator);
  // Variables are handles, so a copy writes into the layer's parameters.
  Variable<double> weight = layer.weight();
  Variable<double> bias = layer.bias();
  weight.mutable_value() = Tensor<double>{{1, 2, 3}, {4, 5, 6}};
  bias.mutable_value() = Tensor<double>{0.5, -1};

  // [1, 0, 2] · [[1, 4], [2, 5], [3, 6]] + [0.5, -1] = [1 + 6 + 0.5, 4 + 12 - 1]
  const Variable<double> y = layer(Variable<double>(Tensor<double>{{1, 0, 2}}));
  CHECK(y.value() == Tensor<double>{{7.5, 15}});
}

TEST_CASE("Linear has PyTorch's layout and initial range") {
  Generator generator(2);
  Linear<float> layer(784, 256, true, generator);
  CHECK(layer.weight().shape() == std::vector<std::size_t>{256, 784});
  CHECK(layer.bias().shape() == std::vector<std::size_t>{256});

  // Both are uniform in ±1/sqrt(784) = ±1/28.
  const float bound = 1.0f / 28.0f;
  CHECK(xt::amax(xt::abs(layer.weight().value()))() <= bound);
  CHECK(xt::amax(xt::abs(layer.bias().value()))() <= bound);
  CHECK(xt::amax(xt::abs(layer.weight().value()))() > 0.9f * bound);

  const auto names = layer.named_parameters();
  REQUIRE(names.size() == 2);
  CHECK(names[0].name == "weight");
  CHECK(names[1].name == "bias");

  Linear<float> without_bias(4, 3, /*bias=*/false, generator);
  CHECK(without_bias.parameters().size() == 1);
  CHECK_THROWS_AS(without_bias.bias(), GraphError);
}

TEST_CASE("Linear rejects zero features and wrong input shapes") {
  CHECK_THROWS_WITH_AS(Linear<float>(0, 3),
                       "Linear: in_features and out_features must be positive, got "
                       "in_features=0, out_features=3",
                       ValueError);
  CHECK_THROWS_AS(Linear<float>(3, 0), ValueError);

  Linear<float> layer(3, 2);
  const Variable<float> wrong(xt::zeros<float>({4, 5}));
  CHECK_THROWS_AS(layer(wrong), ShapeError);
}

TEST_CASE("same seed gives the same Linear weights") {
  Generator first(9), second(9);
  Linear<float> a(20, 10, true, first);
  Linear<float> b(20, 10, true, second);
  CHECK(a.weight().value() == b.weight().value());
  CHECK(a.bias().value() == b.bias().value());
}

TEST_CASE("Linear passes gradcheck") {
  Generator generator(3);
  Linear<double> layer(5, 3, true, generator);
  const Tensor<double> input = generator.uniform_tensor<double>({4, 5}, -1, 1);
  const double error = max_parameter_gradient_error(layer, input);
  CAPTURE(error);
  CHECK(error < 1e-7);

  const GradcheckResult result = gradcheck(
      [&](const std::vector<Variable<double>>& x) { return layer(x[0]); }, {input});
  CAPTURE(result.message());
  CHECK(result.passed);
}

TEST_CASE("Sequential names parameters like PyTorch") {
  Sequential model(Linear<float>(4, 3), ReLU<float>(), Linear<float>(3, 2), Tanh<float>());
  const auto names = model.named_parameters();
  REQUIRE(names.size() == 4);
  CHECK(names[0].name == "0.weight");
  CHECK(names[1].name == "0.bias");
  CHECK(names[2].name == "2.weight");
  CHECK(names[3].name == "2.bias");
  CHECK(model.size() == 4);
  CHECK_THROWS_AS(model[4], ValueError);

  // Nested: a Sequential inside a Sequential prefixes its index.
  Sequential<float> outer;
  outer.push_back(Sequential(Linear<float>(2, 2), Sigmoid<float>()));
  outer.push_back(Linear<float>(2, 1));
  const auto nested = outer.named_parameters();
  CHECK(nested[0].name == "0.0.weight");
  CHECK(nested[2].name == "1.weight");
}

// Applies one Linear twice, as a weight-tied model does: the child is
// registered under two names.
class TiedTwice : public Module<double> {
 public:
  TiedTwice() : shared_(std::make_shared<Linear<double>>(2, 2)) {
    register_module("first", shared_);
    register_module("second", shared_);
  }
  Variable<double> forward(const Variable<double>& input) override {
    return (*shared_)((*shared_)(input));
  }

 private:
  std::shared_ptr<Linear<double>> shared_;
};

TEST_CASE("shared child lists its parameters once") {
  TiedTwice model;
  // named_parameters shows both places, as PyTorch's state_dict does.
  const auto named = model.named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].name == "first.weight");
  CHECK(named[2].name == "second.weight");

  // parameters lists each once, so an optimizer accepts the list and
  // updates each parameter once per step.
  const std::vector<Variable<double>> parameters = model.parameters();
  REQUIRE(parameters.size() == 2);
  CHECK(parameters[0].id() == named[0].parameter.id());
  CHECK(parameters[1].id() == named[1].parameter.id());
  CHECK_NOTHROW(SGD<double>(model.parameters(), 0.1));
}

TEST_CASE("Sequential passes gradcheck") {
  Generator generator(4);
  Sequential<double> model(Linear<double>(6, 5, true, generator), Tanh<double>(),
                           Linear<double>(5, 4, true, generator), Sigmoid<double>(),
                           Linear<double>(4, 3, true, generator));
  const Tensor<double> input = generator.uniform_tensor<double>({3, 6}, -1, 1);
  const double error = max_parameter_gradient_error(model, input);
  CAPTURE(error);
  CHECK(error < 1e-7);

  const GradcheckResult result = gradcheck(
      [&](const std::vector<Variable<double>>& x) { return model(x[0]); }, {input});
  CAPTURE(result.message());
  CHECK(result.passed);
}

TEST_CASE("train and eval reach every child") {
  Sequential<float> model(Linear<float>(2, 2), Dropout<float>(0.5));
  CHECK(model.is_training());
  CHECK(model[1].is_training());
  model.eval();
  CHECK_FALSE(model.is_training());
  CHECK_FALSE(model[1].is_training());
  model.train();
  CHECK(model[1].is_training());
}

TEST_CASE("frozen parameters get no gradient and no update") {
  Generator generator(5);
  Sequential<double> model(Linear<double>(3, 2, true, generator));
  auto parameters = model.named_parameters();
  parameters[0].parameter.set_requires_grad(false);
  const Tensor<double> frozen_before = parameters[0].parameter.value();
  const Tensor<double> bias_before = parameters[1].parameter.value();

  SGD<double> optimizer(model.parameters(), 0.1);
  sum(model(Variable<double>(Tensor<double>{{1, 2, 3}}))).backward();
  optimizer.step();

  CHECK_FALSE(parameters[0].parameter.has_grad());
  CHECK(parameters[0].parameter.value() == frozen_before);
  CHECK(parameters[1].parameter.value() != bias_before);
}

TEST_CASE("Flatten keeps the batch axis") {
  Flatten<double> flatten_layer;
  const Variable<double> images(xt::zeros<double>({2, 3, 4}));
  CHECK(flatten_layer(images).shape() == std::vector<std::size_t>{2, 12});
}

TEST_CASE("Dropout keeps the expected fraction and scale in train mode") {
  Generator generator(6);
  Dropout<float> dropout(0.3, generator);
  const Variable<float> ones(xt::ones<float>({100000}));
  const Tensor<float> output = dropout(ones).value();

  std::size_t kept = 0;
  for (const float value : output) {
    if (value != 0.0f) {
      ++kept;
      REQUIRE(value == doctest::Approx(1.0f / 0.7f));
    }
  }
  // The kept fraction of 100,000 Bernoulli(0.7) draws has a standard
  // deviation of about 0.0015; 0.01 is more than six of them.
  CHECK(static_cast<double>(kept) / 100000 == doctest::Approx(0.7).epsilon(0.01 / 0.7));
  // The mean is kept: E[y] = 1.
  CHECK(xt::mean(output)() == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("Dropout is the identity in eval mode") {
  Dropout<double> dropout(0.9);
  dropout.eval();
  const Variable<double> input(Tensor<double>{1, 2, 3});
  CHECK(dropout(input).value() == input.value());
}

TEST_CASE("Dropout gradient uses the same mask") {
  Generator generator(7);
  Dropout<double> dropout(0.5, generator);
  const Variable<double> input(xt::ones<double>({1000}), true);
  const Variable<double> output = dropout(input);
  sum(output).backward();
  // dy/dx is the mask itself, so the gradient equals the output for x = 1.
  CHECK(input.grad() == output.value());
}

TEST_CASE("Dropout rejects p outside [0, 1]") {
  CHECK_THROWS_WITH_AS(Dropout<float>(1.5), "Dropout: p must be in [0, 1], got 1.500000",
                       ValueError);
  CHECK_THROWS_AS(Dropout<float>(-0.1), ValueError);
  Dropout<float> all(1.0);
  CHECK(xt::all(xt::equal(all(Variable<float>(xt::ones<float>({5}))).value(), 0.0f)));
}
