// One training step of the 784-256-128-10 MLP: zero_grad, forward through
// Linear and ReLU layers, sparse softmax cross-entropy, backward, plain SGD
// step, the loop of examples/fashion_mnist.cpp.
//
// With 2 threads, tapegrad's own pool (set_num_threads) splits each large
// GEMM and elementwise loop, and BLAS runs on 1 thread.
//
// Besides the time, each benchmark reports allocs_per_step: operator new
// calls per step, counted after kWarmUpSteps steps. The first step fills the
// tensor pool and the recycling allocator's free lists. The memory of a
// freed node returns to the free lists only when the tape drops its weak
// reference, which it does in batches, once its list has grown to 64
// entries: about 10 steps of this model.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/allocation_counter.hpp"
#include "bench/mlp.hpp"
#include "core/gemm.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "losses/sparse_softmax_cross_entropy.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/sequential.hpp"
#include "nn/sgd.hpp"

namespace {

using tapegrad::Sequential;
using tapegrad::Tensor;
using tapegrad::Variable;
using tapegrad::bench::kLayerWidths;

constexpr int kWarmUpSteps = 20;

Sequential<float> build_mlp(tapegrad::Generator& generator) {
  Sequential<float> model;
  for (std::size_t layer = 0; layer < tapegrad::bench::kNumLayers; ++layer) {
    if (layer > 0) model.push_back(tapegrad::ReLU<float>());
    model.push_back(tapegrad::Linear<float>(kLayerWidths[layer], kLayerWidths[layer + 1],
                                            /*bias=*/true, generator));
  }
  return model;
}

void train_step(Sequential<float>& model, tapegrad::SGD<float>& optimizer,
                const Variable<float>& input, const Tensor<std::int64_t>& labels) {
  optimizer.zero_grad();
  const Variable<float> logits = model(input);
  const Variable<float> loss = tapegrad::sparse_softmax_cross_entropy(logits, labels);
  loss.backward();
  optimizer.step();
}

void train_step_benchmark(benchmark::State& state, std::size_t batch_size, int threads) {
  tapegrad::set_num_threads(threads);
  tapegrad::set_blas_threads(1);
  tapegrad::Generator generator(1);
  Sequential<float> model = build_mlp(generator);
  tapegrad::SGD<float> optimizer(model.parameters(), tapegrad::bench::kLearningRate);

  // One batch of pixels in [0, 1) and labels, reused by every step.
  const Variable<float> input(
      generator.uniform_tensor<float>({batch_size, kLayerWidths[0]}, 0.0f, 1.0f));
  Tensor<std::int64_t> labels = Tensor<std::int64_t>::from_shape({batch_size});
  for (std::int64_t& label : labels) {
    label = static_cast<std::int64_t>(generator.below(kLayerWidths.back()));
  }

  for (int step = 0; step < kWarmUpSteps; ++step) train_step(model, optimizer, input, labels);
  const std::uint64_t allocations_before = tapegrad::bench::heap_allocation_count();
  for (auto _ : state) train_step(model, optimizer, input, labels);
  const std::uint64_t allocations = tapegrad::bench::heap_allocation_count() - allocations_before;

  state.counters["allocs_per_step"] =
      static_cast<double>(allocations) / static_cast<double>(state.iterations());
  tapegrad::bench::set_step_flop_counters(state, batch_size);
  tapegrad::set_num_threads(1);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  for (const std::size_t batch_size : tapegrad::bench::kBatchSizes) {
    for (const int threads : tapegrad::bench::kThreadCounts) {
      const std::string name = "train_step/batch:" + std::to_string(batch_size) +
                               "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), train_step_benchmark, batch_size, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
