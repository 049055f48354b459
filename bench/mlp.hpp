// The shapes every benchmark in bench/ and bench/peers/ shares: the
// 784-256-128-10 MLP of examples/fashion_mnist.cpp, the batch sizes it is
// timed at, and the loss shapes.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>

namespace tapegrad::bench {

// Layer widths: input pixels, two hidden layers, classes.
inline constexpr std::array<std::size_t, 4> kLayerWidths = {784, 256, 128, 10};
inline constexpr std::size_t kNumLayers = kLayerWidths.size() - 1;

inline constexpr std::array<std::size_t, 3> kBatchSizes = {32, 128, 512};

// Thread counts the training step is timed with.
inline constexpr std::array<int, 2> kThreadCounts = {1, 2};

// Learning rate of the plain SGD step. Small, so that the weights move but
// the loss stays far from 0 over the benchmark's thousands of steps.
inline constexpr float kLearningRate = 1e-3f;

// [batch, classes] of the loss benchmarks: the MLP's output, an ImageNet-sized
// classifier, and a language model's vocabulary.
struct LossShape {
  std::size_t batch_size;
  std::size_t num_classes;
};
inline constexpr std::array<LossShape, 3> kLossShapes = {{{128, 10}, {1024, 1000}, {32, 50000}}};

// Floating-point operations of the 8 GEMMs of one training step, counting a
// multiply-add as 2. Each layer runs a forward GEMM (2·B·in·out) and a weight
// gradient GEMM of the same size; every layer but the first also runs an
// input gradient GEMM, because the input batch needs no gradient. The
// elementwise work is too small to count.
constexpr double train_step_flops(std::size_t batch_size) {
  double flops = 0;
  for (std::size_t layer = 0; layer < kNumLayers; ++layer) {
    const double gemm = 2.0 * static_cast<double>(batch_size) *
                        static_cast<double>(kLayerWidths[layer] * kLayerWidths[layer + 1]);
    flops += layer == 0 ? 2 * gemm : 3 * gemm;
  }
  return flops;
}

// Sets the counters of a benchmark that times one training step (or its
// GEMMs): flops_per_step, which bench/compare divides by the median time,
// and FLOP/s, for reading the raw output.
inline void set_step_flop_counters(benchmark::State& state, std::size_t batch_size) {
  const double flops = train_step_flops(batch_size);
  state.counters["flops_per_step"] = flops;
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace tapegrad::bench
