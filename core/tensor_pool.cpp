#include "core/tensor_pool.hpp"

#include <utility>
#include <vector>

namespace tapegrad {
namespace {

// Whether this thread's pools have been destroyed. A variable freed during
// the program's exit, after the thread-local pools, must not touch them; a
// bool with no destructor stays readable until the thread is gone.
thread_local bool pools_destroyed = false;

template <class T>
class TensorPool {
 public:
  TensorPool() { buffers_.reserve(kMaxPooledTensors); }
  ~TensorPool() { pools_destroyed = true; }
  TensorPool(const TensorPool&) = delete;
  TensorPool& operator=(const TensorPool&) = delete;

  // The most recently given back buffer of `size` elements, which is the
  // likeliest to be in cache; an empty tensor if there is none.
  Tensor<T> take(std::size_t size) {
    for (std::size_t i = buffers_.size(); i-- > 0;) {
      if (buffers_[i].size() != size) continue;
      Tensor<T> tensor = std::move(buffers_[i]);
      buffers_.erase(buffers_.begin() + static_cast<std::ptrdiff_t>(i));
      bytes_ -= size * sizeof(T);
      return tensor;
    }
    return Tensor<T>::from_shape({0});
  }

  // Keeps `tensor`'s buffer, first freeing the oldest buffers if the pool
  // is full: a loop whose shapes changed never takes those again.
  void give(Tensor<T>&& tensor) {
    const std::size_t bytes = tensor.size() * sizeof(T);
    if (bytes == 0 || bytes > kMaxPooledBytes) return;
    std::size_t oldest = 0;
    while (buffers_.size() - oldest == kMaxPooledTensors || bytes_ + bytes > kMaxPooledBytes) {
      bytes_ -= buffers_[oldest].size() * sizeof(T);
      ++oldest;
    }
    buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<std::ptrdiff_t>(oldest));
    bytes_ += bytes;
    buffers_.push_back(std::move(tensor));
  }

  std::size_t size() const { return buffers_.size(); }

  void clear() {
    buffers_.clear();
    bytes_ = 0;
  }

 private:
  std::vector<Tensor<T>> buffers_;
  std::size_t bytes_ = 0;
};

template <class T>
TensorPool<T>& pool() {
  thread_local TensorPool<T> instance;
  return instance;
}

}  // namespace

template <class T>
Tensor<T> pooled_tensor(const typename Tensor<T>::shape_type& shape) {
  std::size_t size = 1;
  for (const std::size_t extent : shape) size *= extent;
  if (size == 0 || pools_destroyed) return Tensor<T>::from_shape(shape);

  Tensor<T> tensor = pool<T>().take(size);
  if (tensor.size() != size) return Tensor<T>::from_shape(shape);
  // The same number of elements: reshape only sets the shape and strides.
  tensor.reshape(shape);
  return tensor;
}

template <class T>
void recycle(Tensor<T>&& tensor) {
  if (pools_destroyed) {
    tensor = Tensor<T>::from_shape({0});
    return;
  }
  pool<T>().give(std::move(tensor));
  // A moved-from xarray keeps its old shape over no data; make it a valid
  // empty tensor.
  tensor = Tensor<T>::from_shape({0});
}

template <class T>
std::size_t pooled_tensor_count() {
  return pools_destroyed ? 0 : pool<T>().size();
}

template <class T>
void clear_tensor_pool() {
  if (!pools_destroyed) pool<T>().clear();
}

template Tensor<float> pooled_tensor(const Tensor<float>::shape_type&);
template Tensor<double> pooled_tensor(const Tensor<double>::shape_type&);
template void recycle(Tensor<float>&&);
template void recycle(Tensor<double>&&);
template std::size_t pooled_tensor_count<float>();
template std::size_t pooled_tensor_count<double>();
template void clear_tensor_pool<float>();
template void clear_tensor_pool<double>();

}  // namespace tapegrad
