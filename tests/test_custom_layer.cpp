// The custom SiLU op of examples/custom_layer.hpp: forward values worked out
// by hand, gradcheck, extreme inputs, the module, the spiral data and a short
// training run.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "examples/custom_layer.hpp"
#include "tapegrad.hpp"
#include "tests/autograd_checks.hpp"

using namespace tapegrad;
using namespace custom_layer;
using autograd_checks::check_gradients;

namespace {

// A SiLU whose backward omits the x · s · (1 - s) term of the product rule,
// the kind of mistake that gradcheck exists to catch.
template <class T>
class WrongSiluNode : public Node<T> {
 public:
  static constexpr const char* kOp = "wrong_silu";

  void backward(const Tensor<T>& grad_output) override {
    const Tensor<T>& x = this->input_value(0);
    this->accumulate(0, grad_output * (T(1) / (T(1) + xt::exp(-x))));
  }
};

Variable<double> wrong_silu(const Variable<double>& x) {
  return record_op<WrongSiluNode<double>>(silu(Variable<double>(x.value())).value(), {x});
}

}  // namespace

TEST_CASE("silu forward matches hand values") {
  // silu(x) = x / (1 + e^-x).
  const Tensor<double> x = {-2.0, 0.0, 1.0, 3.0};
  const Tensor<double> y = silu(Variable<double>(x)).value();
  REQUIRE(y.shape() == x.shape());
  CHECK(y(0) == doctest::Approx(-0.2384058440442351).epsilon(1e-14));
  CHECK(y(1) == 0.0);
  CHECK(y(2) == doctest::Approx(0.7310585786300049).epsilon(1e-14));
  CHECK(y(3) == doctest::Approx(2.8577223804673).epsilon(1e-12));

  SUBCASE("float") {
    const Tensor<float> y_float = silu(Variable<float>(Tensor<float>{-2.0f, 1.0f})).value();
    CHECK(y_float(0) == doctest::Approx(-0.2384058440442351).epsilon(1e-6));
    CHECK(y_float(1) == doctest::Approx(0.7310585786300049).epsilon(1e-6));
  }
}

TEST_CASE("silu backward by hand") {
  // At x = 1: s = 0.7310585786, dx = s · (1 + 1 · (1 - s)) = 0.9276705118.
  // At x = -1: s = 0.2689414214, dx = s · (1 - (1 - s)) = s² = 0.0723294882.
  const Variable<double> x(Tensor<double>{1.0, -1.0}, /*requires_grad=*/true);
  silu(x).backward(Tensor<double>{2.0, 1.0});
  CHECK(x.grad()(0) == doctest::Approx(2 * 0.9276705118714868).epsilon(1e-12));
  CHECK(x.grad()(1) == doctest::Approx(0.0723294881285132).epsilon(1e-12));
}

TEST_CASE("silu passes gradcheck") {
  Generator generator(5);
  SUBCASE("0-D") { check_gradients([](const auto& x) { return silu(x[0]); }, {Tensor<double>(0.7)}); }
  SUBCASE("vector") {
    check_gradients([](const auto& x) { return silu(x[0]); },
                    {generator.uniform_tensor<double>({7}, -6.0, 6.0)});
  }
  SUBCASE("matrix with large inputs") {
    check_gradients([](const auto& x) { return silu(x[0]); },
                    {Tensor<double>{{-30.0, -8.0, 8.0}, {30.0, -0.5, 0.25}}});
  }
  SUBCASE("inside a network") {
    // linear -> silu -> sum: the gradient also flows through linear.
    check_gradients(
        [](const auto& x) { return sum(silu(linear(x[0], x[1], x[2]))); },
        {generator.uniform_tensor<double>({4, 3}, -2.0, 2.0),
         generator.uniform_tensor<double>({5, 3}, -1.0, 1.0),
         generator.uniform_tensor<double>({5}, -1.0, 1.0)});
  }
}

TEST_CASE("gradcheck catches a wrong silu backward") {
  Generator generator(6);
  const GradcheckResult result = gradcheck(
      [](const std::vector<Variable<double>>& x) { return wrong_silu(x[0]); },
      {generator.uniform_tensor<double>({3, 4}, -3.0, 3.0)});
  CAPTURE(result.message());
  CHECK_FALSE(result.passed);
  CHECK(result.max_abs_error > 0.1);
}

TEST_CASE("silu extreme inputs stay finite") {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  const Variable<float> x(Tensor<float>{-1000.0f, 1000.0f, -kInfinity, kInfinity}, true);
  const Variable<float> y = silu(x);
  CHECK(y.value()(0) == 0.0f);
  CHECK(y.value()(1) == 1000.0f);
  // -inf · sigmoid(-inf) is -inf · 0, which IEEE arithmetic makes NaN; large
  // finite inputs, as above, do not get there.
  CHECK(std::isnan(y.value()(2)));
  CHECK(y.value()(3) == kInfinity);

  const Variable<float> finite(Tensor<float>{-1000.0f, 1000.0f}, true);
  sum(silu(finite)).backward();
  CHECK(finite.grad()(0) == 0.0f);
  CHECK(finite.grad()(1) == 1.0f);

  const Tensor<float> nan_output =
      silu(Variable<float>(Tensor<float>{std::numeric_limits<float>::quiet_NaN()})).value();
  CHECK(std::isnan(nan_output(0)));
}

TEST_CASE("silu under NoGradGuard records nothing") {
  Tape tape;
  const TapeScope scope(tape);
  const Variable<double> x(Tensor<double>{1.0, 2.0}, /*requires_grad=*/true);
  {
    const NoGradGuard no_grad;
    const Variable<double> y = silu(x);
    CHECK(y.is_leaf());
    CHECK_FALSE(y.requires_grad());
    CHECK(tape.size() == 0);
  }
  const Variable<double> y = silu(x);
  CHECK_FALSE(y.is_leaf());
  CHECK(tape.to_string().find("silu(") != std::string::npos);
}

TEST_CASE("silu second backward throws") {
  const Variable<double> x(Tensor<double>{0.5}, /*requires_grad=*/true);
  const Variable<double> loss = sum(silu(x));
  loss.backward();
  CHECK_THROWS_AS(loss.backward(), GraphError);
  CHECK_THROWS_WITH(loss.backward(), doctest::Contains("op 'sum' was already released"));
}

TEST_CASE("SiLU module in a Sequential") {
  Generator generator(1);
  Sequential<float> model = make_spiral_classifier(/*hidden_width=*/4, generator);
  CHECK(model.size() == 5);
  // Only the three Linear layers have parameters; SiLU has none.
  const std::vector<NamedParameter<float>> parameters = model.named_parameters();
  REQUIRE(parameters.size() == 6);
  CHECK(parameters[0].name == "0.weight");
  CHECK(parameters[2].name == "2.weight");
  CHECK(parameters[4].name == "4.weight");

  SiLU<float> layer;
  CHECK(layer.parameters().empty());
  const Tensor<float> y = layer(Variable<float>(Tensor<float>{{1.0f, -2.0f}})).value();
  CHECK(y(0, 0) == doctest::Approx(0.7310586f));
  CHECK(y(0, 1) == doctest::Approx(-0.2384058f));
}

TEST_CASE("make_spirals shapes and labels") {
  Generator generator(9);
  const Spirals data = make_spirals(50, 0.0, generator);
  REQUIRE(data.points.shape() == std::vector<std::size_t>{100, 2});
  REQUIRE(data.labels.shape() == std::vector<std::size_t>{100});
  std::size_t ones = 0;
  for (std::size_t i = 0; i < 100; ++i) {
    CHECK(data.labels(i) == static_cast<std::int64_t>(i % 2));
    ones += static_cast<std::size_t>(data.labels(i));
    // Without noise every point lies within the unit circle.
    CHECK(std::hypot(data.points(i, 0), data.points(i, 1)) <= 1.0f + 1e-6f);
  }
  CHECK(ones == 50);

  Generator same_seed(9);
  CHECK(make_spirals(50, 0.0, same_seed).points == data.points);
}

TEST_CASE("spiral classifier trains") {
  TrainingSettings settings;
  settings.steps = 500;
  std::vector<float> losses;
  const auto start = std::chrono::steady_clock::now();
  const TrainingResult result =
      train_spiral_classifier(settings, [&](int, float loss) { losses.push_back(loss); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  CAPTURE(result.initial_loss);
  CAPTURE(result.final_loss);
  CAPTURE(result.accuracy);
  CAPTURE(seconds);
  REQUIRE(losses.size() == 500);
  CHECK(losses.front() == result.initial_loss);
  CHECK(losses.back() == result.final_loss);
  // Two balanced classes start near log 2 = 0.69.
  CHECK(result.initial_loss > 0.6f);
  CHECK(result.final_loss < 0.2f * result.initial_loss);
  CHECK(result.accuracy >= 0.95);
}
