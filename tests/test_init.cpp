// Initialisers: moments against their formulas, fans, and repeatability.
#include <doctest/doctest.h>

#include <cmath>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

struct Moments {
  double mean;
  double variance;
};

Moments moments(const Tensor<double>& values) {
  double sum = 0, square_sum = 0;
  for (const double value : values) sum += value;
  const double mean = sum / static_cast<double>(values.size());
  for (const double value : values) square_sum += (value - mean) * (value - mean);
  return {mean, square_sum / static_cast<double>(values.size())};
}

}  // namespace

TEST_CASE("compute_fans for matrices and higher ranks") {
  const Tensor<float> matrix = xt::zeros<float>({256, 784});
  CHECK(compute_fans(matrix).fan_in == 784);
  CHECK(compute_fans(matrix).fan_out == 256);

  const Tensor<float> kernel = xt::zeros<float>({8, 3, 5, 5});
  CHECK(compute_fans(kernel).fan_in == 75);
  CHECK(compute_fans(kernel).fan_out == 200);

  const Tensor<float> vector = xt::zeros<float>({7});
  CHECK_THROWS_WITH_AS(compute_fans(vector),
                       "compute_fans: a weight needs at least 2 dimensions to have fans, but it is [7]",
                       ShapeError);
}

TEST_CASE("initialisers match their variance over 100000 samples") {
  // A [250, 400] weight: fan_in 400, fan_out 250, 100,000 samples. The
  // sample variance of n draws has a relative error near sqrt(2 / n) ≈ 0.5%,
  // so 3% is far outside chance.
  Generator generator(11);
  Tensor<double> weight = xt::zeros<double>({250, 400});

  SUBCASE("kaiming_uniform") {
    // U(-b, b) with b = sqrt(2)·sqrt(3 / 400) has variance b² / 3 = 2 / 400.
    kaiming_uniform(weight, generator);
    const Moments m = moments(weight);
    CHECK(std::abs(m.mean) < 1e-3);
    CHECK(m.variance == doctest::Approx(2.0 / 400).epsilon(0.03));
    CHECK(xt::amax(xt::abs(weight))() <= std::sqrt(2.0) * std::sqrt(3.0 / 400));
  }
  SUBCASE("kaiming_normal with fan_out") {
    kaiming_normal(weight, generator, 0.0, FanMode::fan_out);
    CHECK(moments(weight).variance == doctest::Approx(2.0 / 250).epsilon(0.03));
  }
  SUBCASE("xavier_uniform") {
    // b = sqrt(6 / 650), variance b² / 3 = 2 / 650.
    xavier_uniform(weight, generator);
    CHECK(moments(weight).variance == doctest::Approx(2.0 / 650).epsilon(0.03));
  }
  SUBCASE("xavier_normal with gain 2") {
    xavier_normal(weight, generator, 2.0);
    CHECK(moments(weight).variance == doctest::Approx(4.0 * 2.0 / 650).epsilon(0.03));
  }
  SUBCASE("zeros") {
    kaiming_uniform(weight, generator);
    zeros(weight);
    CHECK(xt::all(xt::equal(weight, 0.0)));
  }
}

TEST_CASE("same seed gives identical weights") {
  Generator first(5), second(5);
  Tensor<float> a = xt::zeros<float>({16, 9});
  Tensor<float> b = xt::zeros<float>({16, 9});
  kaiming_uniform(a, first);
  kaiming_uniform(b, second);
  CHECK(a == b);
}
