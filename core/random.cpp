#include "core/random.hpp"

#include <cmath>
#include <cstdlib>
#include <numbers>
#include <sstream>

#include "core/error.hpp"
#include "core/number.hpp"

namespace tapegrad {
namespace {

// `text` in quotes for an error message, cut to its first 40 characters,
// because a generator state runs to thousands.
std::string excerpt(const std::string& text) {
  constexpr std::size_t kMaxCharacters = 40;
  if (text.size() <= kMaxCharacters) return "'" + text + "'";
  return "'" + text.substr(0, kMaxCharacters) + "...'";
}

}  // namespace

Generator::Generator(std::uint64_t seed) : engine_(seed) {}

void Generator::seed(std::uint64_t seed) {
  engine_.seed(seed);
  has_spare_normal_ = false;
  spare_normal_ = 0.0;
}

double Generator::uniform() {
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Generator::uniform(double low, double high) {
  // Infinite bounds, or a width high - low that overflows, would give inf,
  // or NaN from inf - inf or inf * 0.
  if (!(std::isfinite(low) && std::isfinite(high) && low <= high &&
        std::isfinite(high - low))) {
    throw ValueError("Generator::uniform: low and high must be finite with low <= high and a "
                     "finite difference, got low=" + detail::format_number(low) + ", high=" +
                     detail::format_number(high));
  }
  return low + (high - low) * uniform();
}

double Generator::normal(double mean, double stddev) {
  if (!std::isfinite(mean)) {
    throw ValueError("Generator::normal: mean must be finite, got " + detail::format_number(mean));
  }
  if (!(std::isfinite(stddev) && stddev >= 0.0)) {
    throw ValueError("Generator::normal: stddev must be finite and >= 0, got " +
                     detail::format_number(stddev));
  }
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return mean + stddev * spare_normal_;
  }

  // 1 - uniform() lies in (0, 1], so the logarithm stays finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  const double angle = 2.0 * std::numbers::pi * uniform();
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return mean + stddev * radius * std::cos(angle);
}

std::uint64_t Generator::below(std::uint64_t bound) {
  if (bound == 0) throw ValueError("Generator::below: bound must be > 0, got 0");

  // Reject the top partial range so that every value is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % bound;
  std::uint64_t draw = engine_();
  while (draw >= limit) draw = engine_();
  return draw % bound;
}

std::vector<std::size_t> Generator::permutation(std::size_t count) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  for (std::size_t i = count; i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(below(i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

template <class T>
Tensor<T> Generator::uniform_tensor(const std::vector<std::size_t>& shape, T low, T high) {
  Tensor<T> out = Tensor<T>::from_shape(shape);
  for (auto& value : out) value = static_cast<T>(uniform(low, high));
  return out;
}

template <class T>
Tensor<T> Generator::normal_tensor(const std::vector<std::size_t>& shape, T mean, T stddev) {
  Tensor<T> out = Tensor<T>::from_shape(shape);
  for (auto& value : out) value = static_cast<T>(normal(mean, stddev));
  return out;
}

std::string Generator::state() const {
  std::ostringstream out;
  out << engine_ << ' ' << has_spare_normal_ << ' ' << std::hexfloat << spare_normal_;
  return out.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 engine;
  bool has_spare = false;
  std::string spare_text;
  in >> engine >> has_spare >> spare_text;

  // state() writes the spare normal sample as a finite hexfloat. Anything
  // else, such as "nan", would come out of the next normal() call.
  char* spare_end = nullptr;
  const double spare = std::strtod(spare_text.c_str(), &spare_end);
  const bool spare_valid = !spare_text.empty() &&
                           spare_end == spare_text.c_str() + spare_text.size() &&
                           std::isfinite(spare);
  if (in.fail()) {
    throw ValueError("Generator::set_state: the text " + excerpt(state) + " (" +
                     std::to_string(state.size()) +
                     " characters) is not a generator state; pass a string from state()");
  }
  if (!spare_valid) {
    throw ValueError("Generator::set_state: the spare normal sample " + excerpt(spare_text) +
                     " at the end of the state is not a finite number; pass a string from "
                     "state()");
  }
  engine_ = engine;
  has_spare_normal_ = has_spare;
  spare_normal_ = spare;
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

template Tensor<float> Generator::uniform_tensor(const std::vector<std::size_t>&, float, float);
template Tensor<double> Generator::uniform_tensor(const std::vector<std::size_t>&, double, double);
template Tensor<float> Generator::normal_tensor(const std::vector<std::size_t>&, float, float);
template Tensor<double> Generator::normal_tensor(const std::vector<std::size_t>&, double, double);

}  // namespace tapegrad
