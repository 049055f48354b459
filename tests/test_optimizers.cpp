// SGD, Adam and AdamW against updates computed by hand, schedulers and
// gradient clipping. Gradients are set directly, so these tests need no ops.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// One scalar parameter p = 1 that requires grad.
Variable<double> scalar_parameter(double value = 1.0) {
  return Variable<double>(Tensor<double>{value}, /*requires_grad=*/true);
}

void set_gradient(Variable<double>& parameter, double gradient) {
  parameter.mutable_grad() = Tensor<double>{gradient};
}

// Runs three steps with the given gradients and returns p after each.
std::vector<double> run_steps(Optimizer<double>& optimizer, Variable<double>& parameter,
                              const std::vector<double>& gradients) {
  std::vector<double> values;
  for (const double gradient : gradients) {
    optimizer.zero_grad();
    set_gradient(parameter, gradient);
    optimizer.step();
    values.push_back(parameter.value()(0));
  }
  return values;
}

void check_values(const std::vector<double>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(i);
    CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("SGD without momentum") {
  // p ← p − 0.1 · 0.5 three times: 0.95, 0.90, 0.85
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 0.1);
  check_values(run_steps(optimizer, p, {0.5, 0.5, 0.5}), {0.95, 0.90, 0.85});
  CHECK(optimizer.step_count() == 3);
}

TEST_CASE("SGD with momentum and weight decay") {
  // lr 0.1, momentum 0.9, weight_decay 0.1, g = 0.5:
  //   t=1: g' = 0.5 + 0.1·1 = 0.6;          b = 0.6;                 p = 1 − 0.06 = 0.94
  //   t=2: g' = 0.5 + 0.094 = 0.594;        b = 0.54 + 0.594 = 1.134; p = 0.94 − 0.1134 = 0.8266
  //   t=3: g' = 0.5 + 0.08266 = 0.58266;    b = 1.0206 + 0.58266 = 1.60326; p = 0.666274
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 0.1, {.momentum = 0.9, .weight_decay = 0.1});
  check_values(run_steps(optimizer, p, {0.5, 0.5, 0.5}), {0.94, 0.8266, 0.666274});
}

TEST_CASE("SGD with Nesterov momentum") {
  // lr 0.1, momentum 0.9, g = 0.5; update = g + 0.9·b:
  //   t=1: b = 0.5;   update = 0.95;   p = 0.905
  //   t=2: b = 0.95;  update = 1.355;  p = 0.7695
  //   t=3: b = 1.355; update = 1.7195; p = 0.59755
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 0.1, {.momentum = 0.9, .nesterov = true});
  check_values(run_steps(optimizer, p, {0.5, 0.5, 0.5}), {0.905, 0.7695, 0.59755});
}

TEST_CASE("SGD with dampening") {
  // lr 0.1, momentum 0.9, dampening 0.5, g = 0.5; the first step takes b = g:
  //   t=1: b = 0.5;                 p = 0.95
  //   t=2: b = 0.45 + 0.25 = 0.7;   p = 0.88
  //   t=3: b = 0.63 + 0.25 = 0.88;  p = 0.792
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 0.1, {.momentum = 0.9, .dampening = 0.5});
  check_values(run_steps(optimizer, p, {0.5, 0.5, 0.5}), {0.95, 0.88, 0.792});
}

TEST_CASE("Adam over three steps") {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, gradients 0.5, −0.3, 0.2:
  //   t=1: m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25; p = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002
  //   t=2: m = 0.015, v = 0.00033975; m̂ = 0.015/0.19, v̂ = 0.00033975/0.001999
  //        p = 0.900000002 − 0.1·m̂/(sqrt(v̂) + 1e-8) = 0.880850198941775
  //   t=3: likewise, p = 0.846107430790882
  Variable<double> p = scalar_parameter();
  Adam<double> optimizer({p}, 0.1);
  check_values(run_steps(optimizer, p, {0.5, -0.3, 0.2}),
               {0.900000002, 0.880850198941775, 0.846107430790882});
}

TEST_CASE("Adam with weight decay adds it to the gradient") {
  // As above with g ← g + 0.1·p before the moments.
  Variable<double> p = scalar_parameter();
  Adam<double> optimizer({p}, 0.1, {.weight_decay = 0.1});
  check_values(run_steps(optimizer, p, {0.5, -0.3, 0.2}),
               {0.900000001666667, 0.861352997210151, 0.807874554678567});
}

TEST_CASE("AdamW decouples weight decay") {
  // p ← p − 0.1·0.1·p first, then the Adam step on the raw gradient:
  //   t=1: p = 0.99 − 0.1·0.5/(0.5 + 1e-8) = 0.890000002
  Variable<double> p = scalar_parameter();
  AdamW<double> optimizer({p}, 0.1, {.weight_decay = 0.1});
  check_values(run_steps(optimizer, p, {0.5, -0.3, 0.2}),
               {0.890000002, 0.861950198921775, 0.818587928781664});
}

TEST_CASE("AdamW defaults to PyTorch's weight decay") {
  Variable<double> p = scalar_parameter();
  AdamW<double> optimizer({p});
  CHECK(optimizer.options().weight_decay == 0.01);
  CHECK(optimizer.learning_rate() == 1e-3);
}

TEST_CASE("optimizers skip frozen parameters and missing gradients") {
  Variable<double> frozen = scalar_parameter();
  Variable<double> untouched = scalar_parameter();
  Variable<double> trained = scalar_parameter();
  set_gradient(frozen, 1.0);
  frozen.set_requires_grad(false);
  set_gradient(trained, 1.0);

  SGD<double> sgd({frozen, untouched, trained}, 0.5);
  sgd.step();
  CHECK(frozen.value()(0) == 1.0);
  CHECK(untouched.value()(0) == 1.0);
  CHECK(trained.value()(0) == 0.5);

  Adam<double> adam({frozen, untouched}, 0.5);
  adam.step();
  CHECK(frozen.value()(0) == 1.0);
  CHECK(untouched.value()(0) == 1.0);
}

TEST_CASE("optimizer zero_grad clears gradients") {
  Variable<double> p = scalar_parameter();
  set_gradient(p, 3.0);
  SGD<double> optimizer({p}, 0.1);
  optimizer.zero_grad();
  CHECK(p.grad()(0) == 0.0);
}

TEST_CASE("step skips a parameter without a gradient since zero_grad") {
  // With weight decay, a step on a zero gradient would still shrink q. A
  // parameter that backward did not reach after zero_grad stays as it is.
  Variable<double> p = scalar_parameter(2.0);
  Variable<double> q = scalar_parameter(2.0);
  SGD<double> optimizer({p, q}, 0.1, {.weight_decay = 0.5});
  set_gradient(p, 1.0);
  set_gradient(q, 1.0);
  optimizer.zero_grad();
  set_gradient(p, 1.0);
  optimizer.step();
  // p = 2 - 0.1 · (1 + 0.5 · 2) = 1.8.
  CHECK(p.value()(0) == doctest::Approx(1.8).epsilon(1e-15));
  CHECK(q.value()(0) == 2.0);
}

TEST_CASE("invalid hyperparameters throw naming the value") {
  Variable<double> p = scalar_parameter();
  const double nan = std::numeric_limits<double>::quiet_NaN();

  CHECK_THROWS_WITH_AS(SGD<double>({p}, -0.1), "Optimizer: learning rate must be finite and >= 0, got -0.1",
                       ValueError);
  CHECK_THROWS_AS(SGD<double>({p}, nan), ValueError);
  CHECK_THROWS_WITH_AS(SGD<double>({p}, 0.1, {.momentum = -0.5}),
                       "SGD: momentum must be finite and >= 0, got -0.5", ValueError);
  CHECK_THROWS_WITH_AS(SGD<double>({p}, 0.1, {.dampening = 1.5}),
                       "SGD: dampening must be in [0, 1], got 1.5", ValueError);
  CHECK_THROWS_WITH_AS(SGD<double>({p}, 0.1, {.weight_decay = -1}),
                       "SGD: weight_decay must be finite and >= 0, got -1", ValueError);
  CHECK_THROWS_AS(SGD<double>({p}, 0.1, {.nesterov = true}), ValueError);
  CHECK_THROWS_AS(SGD<double>({p}, 0.1, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                  ValueError);

  CHECK_THROWS_WITH_AS(Adam<double>({p}, 0.1, {.beta1 = 1.0}),
                       "Adam: beta1 must be in [0, 1), got 1", ValueError);
  CHECK_THROWS_WITH_AS(Adam<double>({p}, 0.1, {.beta2 = -0.1}),
                       "Adam: beta2 must be in [0, 1), got -0.1", ValueError);
  CHECK_THROWS_WITH_AS(Adam<double>({p}, 0.1, {.eps = -1e-8}),
                       "Adam: eps must be finite and > 0, got -1e-08", ValueError);
  CHECK_THROWS_WITH_AS(AdamW<double>({p}, 0.1, {.weight_decay = -0.01}),
                       "AdamW: weight_decay must be finite and >= 0, got -0.01", ValueError);

  SGD<double> optimizer({p}, 0.1);
  CHECK_THROWS_AS(optimizer.set_learning_rate(-1.0), ValueError);
  CHECK(optimizer.learning_rate() == 0.1);
}

TEST_CASE("optimizer state round trip resumes exactly") {
  // Two identical runs; the second is interrupted after 2 steps, its state
  // moved into a fresh optimizer, and continued.
  const std::vector<double> gradients = {0.5, -0.3, 0.2, 0.7};
  Variable<double> p1 = scalar_parameter();
  Adam<double> straight({p1}, 0.1);
  run_steps(straight, p1, gradients);

  Variable<double> p2 = scalar_parameter();
  Adam<double> first_half({p2}, 0.1);
  run_steps(first_half, p2, {0.5, -0.3});
  Adam<double> second_half({p2}, 0.5);
  second_half.load_state(first_half.state_tensors(), first_half.step_count(),
                         first_half.learning_rate());
  run_steps(second_half, p2, {0.2, 0.7});

  CHECK(p2.value()(0) == p1.value()(0));
  CHECK(second_half.step_count() == 4);

  Variable<double> p3 = scalar_parameter();
  SGD<double> sgd({p3}, 0.1, {.momentum = 0.9});
  run_steps(sgd, p3, {0.5});
  SGD<double> restored({p3}, 0.1, {.momentum = 0.9});
  restored.load_state(sgd.state_tensors(), 1, 0.1);
  CHECK(restored.state_tensors().size() == 1);
  CHECK(restored.state_tensors()[0].name == "momentum_buffer.0");
}

TEST_CASE("optimizer load_state lists every mismatch") {
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 0.1, {.momentum = 0.9});
  const std::vector<OptimizerStateTensor<double>> bad = {
      {"momentum_buffer.0", Tensor<double>{1.0, 2.0}},
      {"momentum_buffer.7", Tensor<double>{1.0}},
      {"velocity.0", Tensor<double>{1.0}},
  };
  try {
    optimizer.load_state(bad, 1, 0.1);
    FAIL("load_state accepted a mismatched state");
  } catch (const ValueError& error) {
    const std::string message = error.what();
    CHECK(message.find("'momentum_buffer.0' is [2] but parameter 0 is [1]") != std::string::npos);
    CHECK(message.find("unexpected state 'momentum_buffer.7'") != std::string::npos);
    CHECK(message.find("unexpected state 'velocity.0'") != std::string::npos);
  }

  Adam<double> adam({p}, 0.1);
  CHECK_THROWS_AS(adam.load_state({{"exp_avg.0", Tensor<double>{0.1}}}, 1, 0.1), ValueError);
  CHECK_THROWS_AS(adam.load_state({{"step.0", Tensor<double>{0.5}}}, 1, 0.1), ValueError);
}

TEST_CASE("StepLR decays every step_size epochs") {
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 1.0);
  StepLR<double> scheduler(optimizer, /*step_size=*/2, /*gamma=*/0.5);
  std::vector<double> rates;
  for (int epoch = 0; epoch < 5; ++epoch) {
    scheduler.step();
    rates.push_back(optimizer.learning_rate());
  }
  // epochs 1..5: floor(e / 2) = 0, 1, 1, 2, 2
  check_values(rates, {1.0, 0.5, 0.5, 0.25, 0.25});

  CHECK_THROWS_WITH_AS(StepLR<double>(optimizer, 0), "StepLR: step_size must be at least 1, got 0",
                       ValueError);
  CHECK_THROWS_AS(StepLR<double>(optimizer, 1, -0.5), ValueError);
}

TEST_CASE("CosineAnnealingLR follows the half cosine") {
  Variable<double> p = scalar_parameter();
  SGD<double> optimizer({p}, 1.0);
  CosineAnnealingLR<double> scheduler(optimizer, /*t_max=*/4, /*eta_min=*/0.1);
  std::vector<double> rates;
  for (int epoch = 0; epoch < 5; ++epoch) {
    scheduler.step();
    rates.push_back(optimizer.learning_rate());
  }
  // 0.1 + 0.9·(1 + cos(pi·e/4))/2 for e = 1..4, then eta_min.
  const double pi = std::acos(-1.0);
  const auto expected = [&](int e) { return 0.1 + 0.9 * (1 + std::cos(pi * e / 4)) / 2; };
  check_values(rates, {expected(1), expected(2), expected(3), 0.1, 0.1});

  scheduler.restore(2, 1.0);
  CHECK(optimizer.learning_rate() == doctest::Approx(0.55));
  CHECK_THROWS_AS(CosineAnnealingLR<double>(optimizer, 0), ValueError);
  CHECK_THROWS_AS(CosineAnnealingLR<double>(optimizer, 3, -1.0), ValueError);
}

TEST_CASE("clip_grad_norm scales to the maximum norm") {
  Variable<double> a(Tensor<double>{0.0, 0.0}, true);
  Variable<double> b(Tensor<double>{0.0}, true);
  Variable<double> no_grad(Tensor<double>{0.0}, true);
  a.mutable_grad() = Tensor<double>{3.0, 0.0};
  b.mutable_grad() = Tensor<double>{4.0};

  // Global norm sqrt(9 + 16) = 5; scale 1 / (5 + 1e-6).
  const double norm = clip_grad_norm<double>({a, b, no_grad}, 1.0);
  CHECK(norm == 5.0);
  CHECK(a.grad()(0) == doctest::Approx(3.0 / (5.0 + 1e-6)));
  CHECK(b.grad()(0) == doctest::Approx(4.0 / (5.0 + 1e-6)));
  CHECK_FALSE(no_grad.has_grad());

  // Below the maximum nothing changes.
  CHECK(clip_grad_norm<double>({a, b}, 10.0) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(a.grad()(0) == doctest::Approx(3.0 / (5.0 + 1e-6)));

  CHECK_THROWS_WITH_AS(clip_grad_norm<double>({a}, -1.0),
                       "clip_grad_norm: max_norm must be >= 0, got -1.000000", ValueError);
  a.mutable_grad()(0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(clip_grad_norm<double>({a}, 1.0), ValueError);
}

TEST_CASE("clip_grad_value clamps each element") {
  Variable<float> a(Tensor<float>{0.0f, 0.0f, 0.0f}, true);
  a.mutable_grad() = Tensor<float>{-3.0f, 0.5f, 2.0f};
  clip_grad_value<float>({a}, 1.0);
  CHECK(a.grad() == Tensor<float>{-1.0f, 0.5f, 1.0f});
  CHECK_THROWS_AS(clip_grad_value<float>({a}, -1.0), ValueError);
}
