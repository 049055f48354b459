// The seeded generator: repeatable, restorable, and with the right moments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tapegrad.hpp"

using namespace tapegrad;

TEST_CASE("same seed gives the same numbers") {
  Generator first(42);
  Generator second(42);
  for (int i = 0; i < 100; ++i) {
    CHECK(first.uniform() == second.uniform());
    CHECK(first.normal() == second.normal());
  }
  CHECK(first.permutation(50) == second.permutation(50));

  Generator other(43);
  CHECK(Generator(42).uniform() != other.uniform());
}

TEST_CASE("the first numbers of seed 0 stay fixed") {
  // mt19937_64's output is fixed by the C++ standard, and the conversion to
  // [0, 1) is ours, so this value must never change: a change would alter
  // every seeded run. The value was recorded from this implementation.
  Generator generator(0);
  CHECK(generator.uniform() == 0.15979336337046079);
}

TEST_CASE("uniform and normal have the expected moments") {
  Generator generator(1);
  const int count = 100000;
  double uniform_sum = 0, normal_sum = 0, normal_square_sum = 0;
  for (int i = 0; i < count; ++i) {
    const double u = generator.uniform(-2.0, 4.0);
    REQUIRE(u >= -2.0);
    REQUIRE(u < 4.0);
    uniform_sum += u;
    const double n = generator.normal(3.0, 2.0);
    normal_sum += n;
    normal_square_sum += (n - 3.0) * (n - 3.0);
  }
  CHECK(uniform_sum / count == doctest::Approx(1.0).epsilon(0.02));
  CHECK(normal_sum / count == doctest::Approx(3.0).epsilon(0.01));
  CHECK(normal_square_sum / count == doctest::Approx(4.0).epsilon(0.02));
}

TEST_CASE("permutation holds every index once") {
  Generator generator(5);
  std::vector<std::size_t> order = generator.permutation(1000);
  std::sort(order.begin(), order.end());
  for (std::size_t i = 0; i < order.size(); ++i) REQUIRE(order[i] == i);
  CHECK(generator.permutation(0).empty());
}

TEST_CASE("state round trip continues the sequence") {
  Generator generator(9);
  generator.normal();  // leaves a spare normal in the state
  const std::string saved = generator.state();
  const double next_normal = generator.normal();
  const double next_uniform = generator.uniform();

  Generator restored(0);
  restored.set_state(saved);
  CHECK(restored.normal() == next_normal);
  CHECK(restored.uniform() == next_uniform);

  CHECK_THROWS_AS(restored.set_state("not a state"), ValueError);
}

TEST_CASE("generator rejects invalid arguments") {
  Generator generator(0);
  CHECK_THROWS_WITH(generator.below(0), "Generator::below: bound must be > 0, got 0");
  CHECK_THROWS_AS(generator.uniform(2.0, 1.0), ValueError);
  CHECK_THROWS_AS(generator.normal(0.0, -1.0), ValueError);
}
