// A seeded random number generator whose numbers are the same on every run
// and every platform for the same seed.
//
// The engine is std::mt19937_64, whose output sequence the C++ standard fixes.
// The standard distributions are not fixed across library versions, so the
// conversions to uniform and normal numbers are written here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace tapegrad {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0);

  // Restarts the sequence from `seed`.
  void seed(std::uint64_t seed);

  // A uniform double in [0, 1) with 53 random bits.
  double uniform();

  // A uniform double in [low, high). Throws ValueError unless both bounds
  // and high - low are finite and low <= high.
  double uniform(double low, double high);

  // A normal sample by the Box-Muller transform; the second value of each
  // pair is kept for the next call. Throws ValueError for a mean that is not
  // finite or a stddev that is negative or not finite.
  double normal(double mean = 0.0, double stddev = 1.0);

  // A uniform integer in [0, bound), without modulo bias. bound must be > 0.
  std::uint64_t below(std::uint64_t bound);

  // A random permutation of 0 .. count - 1 (Fisher-Yates).
  std::vector<std::size_t> permutation(std::size_t count);

  // Tensors of the given shape filled with uniform or normal samples.
  template <class T>
  Tensor<T> uniform_tensor(const std::vector<std::size_t>& shape, T low, T high);
  template <class T>
  Tensor<T> normal_tensor(const std::vector<std::size_t>& shape, T mean, T stddev);

  // The whole state as text, and its inverse, for checkpoints: a generator
  // restored from state() continues with exactly the same numbers.
  // set_state() throws ValueError for text not in the format of state().
  std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// The generator that initialisers and dropout use when none is passed.
// NOTE: it is shared by all threads and not synchronised; give each thread
// its own Generator when several threads draw numbers.
Generator& default_generator();

// Reseeds default_generator(), as torch.manual_seed does.
void manual_seed(std::uint64_t seed);

}  // namespace tapegrad
