// The xsimd row kernels against their scalar references.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

template <class T>
constexpr T kInf = std::numeric_limits<T>::infinity();

// Relative tolerance between SIMD and scalar: they sum in another order and
// xsimd's exp differs from std::exp in the last bits.
template <class T>
constexpr double kTolerance = sizeof(T) == 4 ? 2e-6 : 1e-13;

template <class T>
void check_row(const std::vector<T>& row) {
  const std::size_t length = row.size();
  CAPTURE(length);

  CHECK(row_max(row.data(), length) == reference::row_max(row.data(), length));

  const MaxSumExp<T> fast = row_max_sum_exp(row.data(), length);
  const MaxSumExp<T> slow = reference::row_max_sum_exp(row.data(), length);
  CHECK(fast.max == slow.max);
  CHECK(fast.sum_exp == doctest::Approx(slow.sum_exp).epsilon(kTolerance<T>));

  const T fast_lse = row_logsumexp(row.data(), length);
  const T slow_lse = reference::row_logsumexp(row.data(), length);
  if (std::isinf(slow_lse)) {
    CHECK(fast_lse == slow_lse);
  } else {
    CHECK(fast_lse == doctest::Approx(slow_lse).epsilon(kTolerance<T>).scale(1));
  }

  std::vector<T> fast_probs(length), slow_probs(length);
  row_softmax(row.data(), length, fast_probs.data());
  reference::row_softmax(row.data(), length, slow_probs.data());
  for (std::size_t i = 0; i < length; ++i) {
    CAPTURE(i);
    CHECK(fast_probs[i] == doctest::Approx(slow_probs[i]).epsilon(kTolerance<T>).scale(1e-30));
  }

  const T scale = T(-0.375);
  std::vector<T> fast_scaled(length), slow_scaled(length);
  row_scaled_softmax(row.data(), length, scale, fast_scaled.data());
  reference::row_scaled_softmax(row.data(), length, scale, slow_scaled.data());
  for (std::size_t i = 0; i < length; ++i) {
    CAPTURE(i);
    CHECK(fast_scaled[i] == doctest::Approx(slow_scaled[i]).epsilon(kTolerance<T>).scale(1e-30));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("kernels match the scalar reference on every length", T, float, double) {
  Generator generator(3);
  for (std::size_t length = 1; length <= 67; ++length) {
    std::vector<T> row(length);
    for (auto& value : row) value = static_cast<T>(generator.uniform(-20.0, 20.0));
    check_row(row);
  }
}

TEST_CASE_TEMPLATE("kernels handle -inf entries", T, float, double) {
  Generator generator(4);
  for (std::size_t length = 1; length <= 67; ++length) {
    std::vector<T> row(length);
    for (std::size_t i = 0; i < length; ++i) {
      row[i] = (i % 3 == 1) ? -kInf<T> : static_cast<T>(generator.uniform(-5.0, 5.0));
    }
    check_row(row);
  }
}

TEST_CASE_TEMPLATE("kernels handle values near plus and minus 1e30", T, float, double) {
  Generator generator(5);
  for (std::size_t length = 1; length <= 67; ++length) {
    std::vector<T> row(length);
    for (auto& value : row) {
      const double sign = generator.uniform() < 0.5 ? -1.0 : 1.0;
      value = static_cast<T>(sign * 1e30 * generator.uniform(0.5, 1.0));
    }
    check_row(row);
  }
}

TEST_CASE_TEMPLATE("kernels on long rows cross block boundaries", T, float, double) {
  // Increasing values raise the maximum in every block, so the running sum is
  // rescaled again and again.
  for (std::size_t length : {511u, 512u, 513u, 1500u, 50000u}) {
    std::vector<T> row(length);
    for (std::size_t i = 0; i < length; ++i) row[i] = static_cast<T>(i) * T(0.01);
    check_row(row);
  }
}

TEST_CASE_TEMPLATE("kernels compute small cases by hand", T, float, double) {
  const std::vector<T> row = {T(0), T(std::log(3.0))};
  // exp values 1 and 3: softmax [1/4, 3/4], logsumexp log 4.
  CHECK(row_max(row.data(), 2) == row[1]);
  CHECK(row_logsumexp(row.data(), 2) == doctest::Approx(std::log(4.0)).epsilon(kTolerance<T>));
  std::vector<T> probs(2);
  row_softmax(row.data(), 2, probs.data());
  CHECK(probs[0] == doctest::Approx(0.25).epsilon(kTolerance<T>));
  CHECK(probs[1] == doctest::Approx(0.75).epsilon(kTolerance<T>));
}

TEST_CASE_TEMPLATE("kernels on empty and all -inf rows", T, float, double) {
  CHECK(row_max<T>(nullptr, 0) == -kInf<T>);
  CHECK(row_logsumexp<T>(nullptr, 0) == -kInf<T>);

  const std::vector<T> row(9, -kInf<T>);
  const MaxSumExp<T> stats = row_max_sum_exp(row.data(), row.size());
  CHECK(stats.max == -kInf<T>);
  CHECK(stats.sum_exp == T(0));
  CHECK(row_logsumexp(row.data(), row.size()) == -kInf<T>);
}

TEST_CASE_TEMPLATE("scaled softmax computed by hand", T, float, double) {
  // exp values 1 and 3: softmax [1/4, 3/4], times -2.
  const std::vector<T> row = {T(0), T(std::log(3.0))};
  std::vector<T> out(2);
  row_scaled_softmax(row.data(), 2, T(-2), out.data());
  CHECK(out[0] == doctest::Approx(-0.5).epsilon(kTolerance<T>));
  CHECK(out[1] == doctest::Approx(-1.5).epsilon(kTolerance<T>));
}

TEST_CASE("softmax may write over its input") {
  std::vector<float> row = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
                            11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f};
  std::vector<float> expected(row.size());
  reference::row_softmax(row.data(), row.size(), expected.data());
  row_softmax(row.data(), row.size(), row.data());
  for (std::size_t i = 0; i < row.size(); ++i) {
    CHECK(row[i] == doctest::Approx(expected[i]).epsilon(2e-6));
  }
}

TEST_CASE_TEMPLATE("valid logits scan finds each bad value", T, float, double) {
  // Every length up to four batches, with the bad value at every position,
  // so that both the SIMD loop and the tail batch must find it.
  for (std::size_t length = 1; length <= 67; ++length) {
    std::vector<T> row(length, T(0.5));
    CHECK(row_is_valid_logits(row.data(), length));
    CHECK(reference::row_is_valid_logits(row.data(), length));
    for (std::size_t position = 0; position < length; ++position) {
      for (const T bad : {std::numeric_limits<T>::quiet_NaN(), kInf<T>}) {
        row[position] = bad;
        CHECK_FALSE(row_is_valid_logits(row.data(), length));
        CHECK_FALSE(reference::row_is_valid_logits(row.data(), length));
      }
      // -inf is allowed while one value stays finite.
      row[position] = -kInf<T>;
      const bool has_finite = length > 1;
      CHECK(row_is_valid_logits(row.data(), length) == has_finite);
      CHECK(reference::row_is_valid_logits(row.data(), length) == has_finite);
      row[position] = T(0.5);
    }
  }
}

TEST_CASE_TEMPLATE("valid logits scan on empty and all -inf rows", T, float, double) {
  CHECK_FALSE(row_is_valid_logits<T>(nullptr, 0));
  const std::vector<T> row(33, -kInf<T>);
  CHECK_FALSE(row_is_valid_logits(row.data(), row.size()));
  CHECK_FALSE(reference::row_is_valid_logits(row.data(), row.size()));
}
