// A per-thread pool of tensor buffers, so that a training loop stops
// allocating tensors after its first step.
//
// Every step of a training loop creates tensors of the same sizes: the
// results of the forward pass and the gradients of the backward pass. When a
// step's variables are freed, the autograd engine gives their buffers back
// here, and the ops of the next step take them instead of allocating.
//
// Each thread has its own pool, so taking and giving back need no lock; a
// buffer given back on another thread than the one that took it simply moves
// to that thread's pool. A pool keeps at most kMaxPooledTensors buffers and
// kMaxPooledBytes bytes per element type, and frees its oldest buffers to
// make room for new ones.
#pragma once

#include <cstddef>

#include "core/tensor.hpp"

namespace tapegrad {

inline constexpr std::size_t kMaxPooledTensors = 64;
inline constexpr std::size_t kMaxPooledBytes = std::size_t{64} << 20;  // 64 MiB

// Returns a tensor of `shape` whose elements are uninitialised, reusing a
// pooled buffer of the same number of elements when there is one.
template <class T>
Tensor<T> pooled_tensor(const typename Tensor<T>::shape_type& shape);

// Gives the buffer of `tensor` to this thread's pool, or frees it when the
// pool is full. `tensor` is left empty, shaped [0].
template <class T>
void recycle(Tensor<T>&& tensor);

// The number of buffers in this thread's pool for element type T.
template <class T>
std::size_t pooled_tensor_count();

// Frees every buffer in this thread's pool for element type T.
template <class T>
void clear_tensor_pool();

}  // namespace tapegrad
