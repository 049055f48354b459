// xsimd versions of the row kernels, and their scalar references.
//
// Rows start anywhere in a tensor, so every load and store is unaligned. The
// SIMD loops cover whole batches; a scalar loop finishes the tail.
#include "core/kernels.hpp"

// GCC 12 reports -Wmaybe-uninitialized and -Wuninitialized inside its own
// AVX-512 intrinsic headers once they are inlined here (GCC bug 105593, fixed
// in GCC 13). The pragmas must come before the include, because GCC applies
// them by position.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tapegrad {
namespace {

template <class T>
using Batch = xsimd::batch<T>;

template <class T>
constexpr T minus_infinity = -std::numeric_limits<T>::infinity();

// Elements per block of row_max_sum_exp: small enough that a block read for
// its maximum is still in L1 cache when it is read again for exp.
constexpr std::size_t kBlockLength = 512;

// xsimd 8.1.0 has hadd for sums but no horizontal maximum, so the lanes are
// stored and compared one by one.
template <class T>
T horizontal_max(const Batch<T>& values) {
  alignas(Batch<T>::arch_type::alignment()) std::array<T, Batch<T>::size> lanes;
  values.store_aligned(lanes.data());
  return *std::max_element(lanes.begin(), lanes.end());
}

// Returns sum over the block of exp(x - shift).
template <class T>
T block_sum_exp(const T* block, std::size_t length, T shift) {
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  const Batch<T> shift_batch(shift);
  Batch<T> sums(T(0));
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    sums += xsimd::exp(Batch<T>::load_unaligned(block + i) - shift_batch);
  }
  T sum = xsimd::hadd(sums);
  for (std::size_t i = simd_end; i < length; ++i) sum += std::exp(block[i] - shift);
  return sum;
}

}  // namespace

template <class T>
T row_max(const T* row, std::size_t length) {
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  T max = minus_infinity<T>;
  if (simd_end > 0) {
    Batch<T> maxima(minus_infinity<T>);
    for (std::size_t i = 0; i < simd_end; i += lanes) {
      maxima = xsimd::max(maxima, Batch<T>::load_unaligned(row + i));
    }
    max = horizontal_max(maxima);
  }
  for (std::size_t i = simd_end; i < length; ++i) max = std::max(max, row[i]);
  return max;
}

template <class T>
MaxSumExp<T> row_max_sum_exp(const T* row, std::size_t length) {
  MaxSumExp<T> result{minus_infinity<T>, T(0)};
  for (std::size_t start = 0; start < length; start += kBlockLength) {
    const std::size_t block_length = std::min(kBlockLength, length - start);
    const T* block = row + start;

    // A block of only -inf adds exp(-inf) = 0; skipping it also avoids
    // computing -inf - (-inf) = NaN while the running maximum is still -inf.
    const T block_max = row_max(block, block_length);
    if (block_max == minus_infinity<T>) continue;

    // Rescale what was summed against the old maximum: exp(x - old) =
    // exp(x - new) · exp(new - old).
    if (block_max > result.max) {
      result.sum_exp *= std::exp(result.max - block_max);
      result.max = block_max;
    }
    result.sum_exp += block_sum_exp(block, block_length, result.max);
  }
  return result;
}

template <class T>
T row_logsumexp(const T* row, std::size_t length) {
  const MaxSumExp<T> stats = row_max_sum_exp(row, length);
  if (stats.max == minus_infinity<T>) return minus_infinity<T>;
  return stats.max + std::log(stats.sum_exp);
}

template <class T>
void row_softmax(const T* row, std::size_t length, T* probs) {
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  const T max = row_max(row, length);

  // Pass 1 writes exp(x - max) and sums it; pass 2 scales by 1 / sum.
  const Batch<T> max_batch(max);
  Batch<T> sums(T(0));
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    const Batch<T> exps = xsimd::exp(Batch<T>::load_unaligned(row + i) - max_batch);
    exps.store_unaligned(probs + i);
    sums += exps;
  }
  T sum = xsimd::hadd(sums);
  for (std::size_t i = simd_end; i < length; ++i) {
    probs[i] = std::exp(row[i] - max);
    sum += probs[i];
  }

  const T inverse_sum = T(1) / sum;
  const Batch<T> inverse_batch(inverse_sum);
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    (Batch<T>::load_unaligned(probs + i) * inverse_batch).store_unaligned(probs + i);
  }
  for (std::size_t i = simd_end; i < length; ++i) probs[i] *= inverse_sum;
}

namespace reference {

template <class T>
T row_max(const T* row, std::size_t length) {
  T max = minus_infinity<T>;
  for (std::size_t i = 0; i < length; ++i) max = std::max(max, row[i]);
  return max;
}

template <class T>
MaxSumExp<T> row_max_sum_exp(const T* row, std::size_t length) {
  const T max = row_max(row, length);
  T sum_exp = 0;
  if (max != minus_infinity<T>) {
    for (std::size_t i = 0; i < length; ++i) sum_exp += std::exp(row[i] - max);
  }
  return {max, sum_exp};
}

template <class T>
T row_logsumexp(const T* row, std::size_t length) {
  const MaxSumExp<T> stats = row_max_sum_exp(row, length);
  if (stats.max == minus_infinity<T>) return minus_infinity<T>;
  return stats.max + std::log(stats.sum_exp);
}

template <class T>
void row_softmax(const T* row, std::size_t length, T* probs) {
  const T max = row_max(row, length);
  T sum = 0;
  for (std::size_t i = 0; i < length; ++i) {
    probs[i] = std::exp(row[i] - max);
    sum += probs[i];
  }
  for (std::size_t i = 0; i < length; ++i) probs[i] /= sum;
}

}  // namespace reference

#define TAPEGRAD_INSTANTIATE_KERNELS(T)                                   \
  template T row_max(const T*, std::size_t);                              \
  template MaxSumExp<T> row_max_sum_exp(const T*, std::size_t);           \
  template T row_logsumexp(const T*, std::size_t);                        \
  template void row_softmax(const T*, std::size_t, T*);                   \
  template T reference::row_max(const T*, std::size_t);                   \
  template MaxSumExp<T> reference::row_max_sum_exp(const T*, std::size_t); \
  template T reference::row_logsumexp(const T*, std::size_t);             \
  template void reference::row_softmax(const T*, std::size_t, T*);

TAPEGRAD_INSTANTIATE_KERNELS(float)
TAPEGRAD_INSTANTIATE_KERNELS(double)

}  // namespace tapegrad
