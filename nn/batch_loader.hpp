// Mini-batch indices for one epoch after another, shuffled or in order.
//
//   BatchLoader loader(data.train_images.shape()[0], 64, true, 42);
//   std::vector<std::size_t> indices;
//   for (int epoch = 0; epoch < 10; ++epoch) {
//     loader.start_epoch();
//     while (loader.next_batch(indices)) { /* gather_images(..., indices, ...) */ }
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/random.hpp"

namespace tapegrad {

class BatchLoader {
 public:
  // Throws ValueError when batch_size is 0. With shuffle, every epoch draws a
  // new order from one Generator seeded with `seed`, so a seed fixes the
  // whole sequence of epochs.
  BatchLoader(std::size_t num_samples, std::size_t batch_size, bool shuffle, std::uint64_t seed);

  // Starts a new epoch, drawing a new order when shuffling. An epoch that is
  // under way is abandoned.
  void start_epoch();

  // Writes the next batch's sample indices into `indices` and returns true,
  // or clears `indices` and returns false when the epoch is over. When
  // num_samples % batch_size is not 0, the last batch has that many samples.
  // Throws ValueError when no epoch was started.
  bool next_batch(std::vector<std::size_t>& indices);

  // ceil(num_samples / batch_size), counting the partial last batch.
  std::size_t batches_per_epoch() const;

  std::size_t num_samples() const { return num_samples_; }
  std::size_t batch_size() const { return batch_size_; }

  // The generator behind the shuffles. A checkpoint saves its state() between
  // epochs and restores it with set_state(), so that the next start_epoch()
  // draws the same order as an uninterrupted run.
  // NOTE: the state does not include the position inside an epoch.
  Generator& generator() { return generator_; }

 private:
  std::size_t num_samples_;
  std::size_t batch_size_;
  bool shuffle_;
  Generator generator_;
  std::vector<std::size_t> order_;  // sample indices of the current epoch
  std::size_t position_ = 0;        // index in order_ of the next batch's first sample
  bool epoch_started_ = false;
};

}  // namespace tapegrad
