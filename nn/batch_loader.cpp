#include "nn/batch_loader.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "core/error.hpp"

namespace tapegrad {

BatchLoader::BatchLoader(std::size_t num_samples, std::size_t batch_size, bool shuffle,
                         std::uint64_t seed)
    : num_samples_(num_samples), batch_size_(batch_size), shuffle_(shuffle), generator_(seed) {
  if (batch_size == 0) {
    throw ValueError("BatchLoader: batch_size must be at least 1, got 0");
  }
}

void BatchLoader::start_epoch() {
  if (shuffle_) {
    order_ = generator_.permutation(num_samples_);
  } else {
    order_.resize(num_samples_);
    std::iota(order_.begin(), order_.end(), std::size_t{0});
  }
  position_ = 0;
  epoch_started_ = true;
}

bool BatchLoader::next_batch(std::vector<std::size_t>& indices) {
  if (!epoch_started_) {
    throw ValueError("BatchLoader::next_batch: no epoch was started; call start_epoch() first");
  }

  indices.clear();
  if (position_ >= order_.size()) return false;

  const std::size_t count = std::min(batch_size_, order_.size() - position_);
  const auto first = order_.begin() + static_cast<std::ptrdiff_t>(position_);
  indices.assign(first, first + static_cast<std::ptrdiff_t>(count));
  position_ += count;
  return true;
}

std::size_t BatchLoader::batches_per_epoch() const {
  // Written without num_samples + batch_size - 1, which could overflow.
  return num_samples_ / batch_size_ + (num_samples_ % batch_size_ != 0 ? 1 : 0);
}

}  // namespace tapegrad
