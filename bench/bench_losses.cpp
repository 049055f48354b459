// The sparse softmax cross-entropy, forward and backward, in its tensor
// form: the loss of a batch of logits [B, C] against labels [B], then the
// gradient with respect to the logits.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/mlp.hpp"
#include "core/random.hpp"
#include "losses/sparse_softmax_cross_entropy.hpp"

namespace {

using tapegrad::Tensor;

void loss_forward_backward(benchmark::State& state, std::size_t batch_size,
                           std::size_t num_classes) {
  tapegrad::Generator generator(1);
  const Tensor<float> logits =
      generator.normal_tensor<float>({batch_size, num_classes}, 0.0f, 3.0f);
  Tensor<std::int64_t> labels = Tensor<std::int64_t>::from_shape({batch_size});
  for (std::int64_t& label : labels) {
    label = static_cast<std::int64_t>(generator.below(num_classes));
  }

  for (auto _ : state) {
    const float loss = tapegrad::sparse_softmax_cross_entropy(logits, labels);
    const Tensor<float> grad_logits =
        tapegrad::sparse_softmax_cross_entropy_backward(1.0f, logits, labels);
    benchmark::DoNotOptimize(loss);
    benchmark::DoNotOptimize(grad_logits.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch_size));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  for (const tapegrad::bench::LossShape shape : tapegrad::bench::kLossShapes) {
    const std::string name = "sparse_softmax_cross_entropy/batch:" +
                             std::to_string(shape.batch_size) +
                             "/classes:" + std::to_string(shape.num_classes);
    benchmark::RegisterBenchmark(name.c_str(), loss_forward_backward, shape.batch_size,
                                 shape.num_classes)
        ->Unit(benchmark::kMicrosecond);
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
