// xsimd versions of the row kernels, and their scalar references.
//
// Rows start anywhere in a tensor, so every load and store is unaligned. The
// SIMD loops cover whole batches, and the tail of a row goes through one more
// batch whose missing lanes hold -inf, which adds nothing to a maximum and 0
// to a sum of exponentials. Short rows, such as 10 classes, are then one
// batch of work instead of a scalar loop.
#include "core/kernels.hpp"

// GCC 12 reports -Wmaybe-uninitialized and -Wuninitialized inside its own
// AVX-512 intrinsic headers once they are inlined here (GCC bug 105593: the
// headers leave "don't care" operands uninitialised on purpose). The pragmas
// must come before the include, because GCC applies them by position.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

namespace tapegrad {
namespace {

template <class T>
using Batch = xsimd::batch<T>;

template <class T>
constexpr T minus_infinity = -std::numeric_limits<T>::infinity();

// Elements per block of row_max_sum_exp: small enough that a block read for
// its maximum is still in L1 cache when it is read again for exp.
constexpr std::size_t kBlockLength = 512;

// True when batches are AVX-512 registers. xsimd 8.1.0 has no masked loads
// or stores and no horizontal maximum, so these three get AVX-512
// intrinsics: on short rows, such as 10 classes, the tail batch is all the
// work, and going through a stack buffer there costs more than the math.
#if defined(__AVX512F__)
template <class T>
constexpr bool kAvx512Batch = sizeof(Batch<T>) == 64;
#else
template <class T>
constexpr bool kAvx512Batch = false;
#endif

template <class T>
T horizontal_max(const Batch<T>& values) {
#if defined(__AVX512F__)
  if constexpr (kAvx512Batch<T> && std::is_same_v<T, float>) {
    return _mm512_reduce_max_ps(values);
  } else if constexpr (kAvx512Batch<T> && std::is_same_v<T, double>) {
    return _mm512_reduce_max_pd(values);
  }
#endif
  alignas(Batch<T>::arch_type::alignment()) std::array<T, Batch<T>::size> lanes;
  values.store_aligned(lanes.data());
  return *std::max_element(lanes.begin(), lanes.end());
}

// Returns the `count` values at `values`, fewer than a batch, as a batch
// whose other lanes are -inf. The masked load never touches memory past
// values + count.
template <class T>
Batch<T> load_tail(const T* values, std::size_t count) {
#if defined(__AVX512F__)
  if constexpr (kAvx512Batch<T> && std::is_same_v<T, float>) {
    const auto mask = static_cast<__mmask16>((1u << count) - 1);
    return _mm512_mask_loadu_ps(_mm512_set1_ps(minus_infinity<T>), mask, values);
  } else if constexpr (kAvx512Batch<T> && std::is_same_v<T, double>) {
    const auto mask = static_cast<__mmask8>((1u << count) - 1);
    return _mm512_mask_loadu_pd(_mm512_set1_pd(minus_infinity<T>), mask, values);
  }
#endif
  alignas(Batch<T>::arch_type::alignment()) std::array<T, Batch<T>::size> lanes;
  lanes.fill(minus_infinity<T>);
  std::copy(values, values + count, lanes.begin());
  return Batch<T>::load_aligned(lanes.data());
}

// Stores the first `count` lanes of `values`, fewer than a batch.
template <class T>
void store_tail(const Batch<T>& values, std::size_t count, T* out) {
#if defined(__AVX512F__)
  if constexpr (kAvx512Batch<T> && std::is_same_v<T, float>) {
    _mm512_mask_storeu_ps(out, static_cast<__mmask16>((1u << count) - 1), values);
    return;
  } else if constexpr (kAvx512Batch<T> && std::is_same_v<T, double>) {
    _mm512_mask_storeu_pd(out, static_cast<__mmask8>((1u << count) - 1), values);
    return;
  }
#endif
  alignas(Batch<T>::arch_type::alignment()) std::array<T, Batch<T>::size> lanes;
  values.store_aligned(lanes.data());
  std::copy(lanes.begin(), lanes.begin() + count, out);
}

// Returns sum over the block of exp(x - shift), for a finite shift.
template <class T>
T block_sum_exp(const T* block, std::size_t length, T shift) {
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  const Batch<T> shift_batch(shift);
  Batch<T> sums(T(0));
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    sums += xsimd::exp(Batch<T>::load_unaligned(block + i) - shift_batch);
  }
  if (simd_end < length) {
    sums += xsimd::exp(load_tail(block + simd_end, length - simd_end) - shift_batch);
  }
  return xsimd::hadd(sums);
}

}  // namespace

template <class T>
T row_max(const T* row, std::size_t length) {
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  Batch<T> maxima(minus_infinity<T>);
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    maxima = xsimd::max(maxima, Batch<T>::load_unaligned(row + i));
  }
  if (simd_end < length) maxima = xsimd::max(maxima, load_tail(row + simd_end, length - simd_end));
  return horizontal_max(maxima);
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
  row_scaled_softmax(row, length, T(1), probs);
}

template <class T>
void row_scaled_softmax(const T* row, std::size_t length, T scale, T* out) {
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  const T max = row_max(row, length);

  // Pass 1 writes exp(x - max) and sums it; pass 2 multiplies by scale / sum.
  const Batch<T> max_batch(max);
  Batch<T> sums(T(0));
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    const Batch<T> exps = xsimd::exp(Batch<T>::load_unaligned(row + i) - max_batch);
    exps.store_unaligned(out + i);
    sums += exps;
  }
  if (simd_end < length) {
    const Batch<T> exps = xsimd::exp(load_tail(row + simd_end, length - simd_end) - max_batch);
    store_tail(exps, length - simd_end, out + simd_end);
    sums += exps;
  }

  const T factor = scale / xsimd::hadd(sums);
  const Batch<T> factor_batch(factor);
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    (Batch<T>::load_unaligned(out + i) * factor_batch).store_unaligned(out + i);
  }
  for (std::size_t i = simd_end; i < length; ++i) out[i] *= factor;
}

template <class T>
bool row_is_valid_logits(const T* row, std::size_t length) {
  // The scan has no early exit, because checking the mask every batch would
  // cost more than reading the rest of a valid row, the common case. The tail
  // batch's -inf lanes are below +inf and not above -inf, so they change
  // neither result.
  constexpr std::size_t lanes = Batch<T>::size;
  const std::size_t simd_end = length - length % lanes;
  const Batch<T> infinity(std::numeric_limits<T>::infinity());
  const Batch<T> minus_infinity_batch(minus_infinity<T>);
  xsimd::batch_bool<T> all_below_infinity(true);
  xsimd::batch_bool<T> any_above_minus_infinity(false);
  for (std::size_t i = 0; i < simd_end; i += lanes) {
    const Batch<T> values = Batch<T>::load_unaligned(row + i);
    all_below_infinity = all_below_infinity & (values < infinity);
    any_above_minus_infinity = any_above_minus_infinity | (values > minus_infinity_batch);
  }
  if (simd_end < length) {
    const Batch<T> values = load_tail(row + simd_end, length - simd_end);
    all_below_infinity = all_below_infinity & (values < infinity);
    any_above_minus_infinity = any_above_minus_infinity | (values > minus_infinity_batch);
  }
  return xsimd::all(all_below_infinity) && xsimd::any(any_above_minus_infinity);
}

namespace reference {

template <class T>
bool row_is_valid_logits(const T* row, std::size_t length) {
  bool any_above_minus_infinity = false;
  for (std::size_t i = 0; i < length; ++i) {
    if (!(row[i] < std::numeric_limits<T>::infinity())) return false;
    if (row[i] > minus_infinity<T>) any_above_minus_infinity = true;
  }
  return any_above_minus_infinity;
}

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

template <class T>
void row_scaled_softmax(const T* row, std::size_t length, T scale, T* out) {
  row_softmax(row, length, out);
  for (std::size_t i = 0; i < length; ++i) out[i] *= scale;
}

}  // namespace reference

#define TAPEGRAD_INSTANTIATE_KERNELS(T)                                   \
  template T row_max(const T*, std::size_t);                              \
  template MaxSumExp<T> row_max_sum_exp(const T*, std::size_t);           \
  template T row_logsumexp(const T*, std::size_t);                        \
  template void row_softmax(const T*, std::size_t, T*);                   \
  template void row_scaled_softmax(const T*, std::size_t, T, T*);         \
  template bool row_is_valid_logits(const T*, std::size_t);               \
  template bool reference::row_is_valid_logits(const T*, std::size_t);    \
  template T reference::row_max(const T*, std::size_t);                   \
  template MaxSumExp<T> reference::row_max_sum_exp(const T*, std::size_t); \
  template T reference::row_logsumexp(const T*, std::size_t);             \
  template void reference::row_softmax(const T*, std::size_t, T*);        \
  template void reference::row_scaled_softmax(const T*, std::size_t, T, T*);

TAPEGRAD_INSTANTIATE_KERNELS(float)
TAPEGRAD_INSTANTIATE_KERNELS(double)

}  // namespace tapegrad
