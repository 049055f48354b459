// Row kernels behind the fused losses and softmax: maximum, log-sum-exp and
// softmax of one contiguous row.
//
// Each kernel exists twice. The functions in namespace tapegrad are written
// with xsimd and compiled for float and double in kernels.cpp, so callers need
// no special flags. The ones in tapegrad::reference are plain scalar loops
// that the tests use as ground truth.
//
// Contract for every kernel: the row holds finite values or -inf. NaN and
// +inf are the caller's to reject (the losses do). A row of length 0, or of
// only -inf, has max = -inf, sum_exp = 0 and logsumexp = -inf, and its
// softmax is NaN, as in PyTorch.
#pragma once

#include <cstddef>

namespace tapegrad {

// The row maximum and the sum of exp(x - max) over the row.
template <class T>
struct MaxSumExp {
  T max;
  T sum_exp;
};

template <class T>
T row_max(const T* row, std::size_t length);

// Computes max and sum_exp in one pass over memory: each block of the row is
// read while it is in cache, and the running sum is rescaled when a block
// raises the maximum.
template <class T>
MaxSumExp<T> row_max_sum_exp(const T* row, std::size_t length);

// log(sum exp(x)), computed as max + log(sum exp(x - max)) so that it never
// overflows.
template <class T>
T row_logsumexp(const T* row, std::size_t length);

// Writes exp(x - max) / sum exp(x - max) into probs, which may alias row.
template <class T>
void row_softmax(const T* row, std::size_t length, T* probs);

// Writes scale · softmax(x) into out, which may alias row: the softmax and a
// factor such as grad_output / batch_size in the same passes.
template <class T>
void row_scaled_softmax(const T* row, std::size_t length, T scale, T* out);

// Returns true when every value of the row is below +inf, so none is NaN,
// and at least one is above -inf: the rows that the losses accept as logits.
// Unlike the other kernels, it takes any values.
template <class T>
bool row_is_valid_logits(const T* row, std::size_t length);

namespace reference {

template <class T>
T row_max(const T* row, std::size_t length);

template <class T>
bool row_is_valid_logits(const T* row, std::size_t length);

template <class T>
MaxSumExp<T> row_max_sum_exp(const T* row, std::size_t length);

template <class T>
T row_logsumexp(const T* row, std::size_t length);

template <class T>
void row_softmax(const T* row, std::size_t length, T* probs);

template <class T>
void row_scaled_softmax(const T* row, std::size_t length, T scale, T* out);

}  // namespace reference
}  // namespace tapegrad
