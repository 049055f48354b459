// The benchmarks of bench/ in libtorch, for bench/compare to set side by
// side: one training step of the 784-256-128-10 MLP, and softmax
// cross-entropy forward and backward.
//
// torch_train_step runs the loop of the PyTorch C++ examples: zero_grad,
// forward through torch::nn::Sequential, cross_entropy, backward, SGD step.
// It is timed for each pair of torch threads (at::set_num_threads, the
// OpenMP pool of libtorch's own kernels) and OpenBLAS threads (the GEMMs),
// because the two pools compete for the same cores.
//
// The loss is timed twice: torch_cross_entropy is what a user writes
// (cross_entropy, then backward() on the loss), and
// torch_cross_entropy_kernels calls the four ATen kernels behind it
// directly, without autograd's bookkeeping.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "bench/mlp.hpp"

namespace {

using tapegrad::bench::kLayerWidths;

torch::nn::Sequential build_mlp() {
  torch::nn::Sequential model;
  for (std::size_t layer = 0; layer < tapegrad::bench::kNumLayers; ++layer) {
    if (layer > 0) model->push_back(torch::nn::ReLU());
    model->push_back(torch::nn::Linear(static_cast<std::int64_t>(kLayerWidths[layer]),
                                       static_cast<std::int64_t>(kLayerWidths[layer + 1])));
  }
  return model;
}

void set_threads(int torch_threads, int blas_threads) {
  at::set_num_threads(torch_threads);
  openblas_set_num_threads(blas_threads);
}

void train_step(benchmark::State& state, std::size_t batch_size, int torch_threads,
                int blas_threads) {
  set_threads(torch_threads, blas_threads);
  torch::manual_seed(1);
  torch::nn::Sequential model = build_mlp();
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(tapegrad::bench::kLearningRate));
  const auto batch = static_cast<std::int64_t>(batch_size);
  const torch::Tensor input = torch::rand({batch, static_cast<std::int64_t>(kLayerWidths[0])});
  const torch::Tensor labels =
      torch::randint(static_cast<std::int64_t>(kLayerWidths.back()), {batch}, torch::kLong);

  for (auto _ : state) {
    optimizer.zero_grad();
    const torch::Tensor logits = model->forward(input);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
    loss.backward();
    optimizer.step();
  }
  tapegrad::bench::set_step_flop_counters(state, batch_size);
  set_threads(1, 1);
}

std::pair<torch::Tensor, torch::Tensor> random_logits_and_labels(std::size_t batch_size,
                                                                 std::size_t num_classes) {
  torch::manual_seed(1);
  const auto batch = static_cast<std::int64_t>(batch_size);
  const auto classes = static_cast<std::int64_t>(num_classes);
  return {torch::randn({batch, classes}) * 3.0, torch::randint(classes, {batch}, torch::kLong)};
}

void cross_entropy(benchmark::State& state, std::size_t batch_size, std::size_t num_classes) {
  set_threads(1, 1);
  auto [logits, labels] = random_logits_and_labels(batch_size, num_classes);
  logits.requires_grad_(true);
  for (auto _ : state) {
    // Drop the previous gradient, so that backward writes a new one instead
    // of adding to it.
    logits.mutable_grad().reset();
    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
    loss.backward();
    benchmark::DoNotOptimize(logits.grad().data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch_size));
}

void cross_entropy_kernels(benchmark::State& state, std::size_t batch_size,
                           std::size_t num_classes) {
  set_threads(1, 1);
  const auto [logits, labels] = random_logits_and_labels(batch_size, num_classes);
  const torch::Tensor no_weight;
  const std::int64_t mean = at::Reduction::Mean;
  const std::int64_t ignore_index = -100;
  for (auto _ : state) {
    const torch::Tensor log_probs = at::_log_softmax(logits, 1, false);
    const auto [loss, total_weight] =
        at::nll_loss_forward(log_probs, labels, no_weight, mean, ignore_index);
    const torch::Tensor grad_log_probs = at::nll_loss_backward(
        torch::ones({}), log_probs, labels, no_weight, mean, ignore_index, total_weight);
    const torch::Tensor grad_logits =
        at::_log_softmax_backward_data(grad_log_probs, log_probs, 1, torch::kFloat);
    benchmark::DoNotOptimize(loss.data_ptr());
    benchmark::DoNotOptimize(grad_logits.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch_size));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // {torch threads, OpenBLAS threads}: one core, then the settings for two.
  const std::vector<std::pair<int, int>> thread_settings = {{1, 1}, {1, 2}, {2, 1}, {2, 2}};
  for (const std::size_t batch_size : tapegrad::bench::kBatchSizes) {
    for (const auto& [torch_threads, blas_threads] : thread_settings) {
      const std::string name = "torch_train_step/batch:" + std::to_string(batch_size) +
                               "/torch_threads:" + std::to_string(torch_threads) +
                               "/blas_threads:" + std::to_string(blas_threads);
      benchmark::RegisterBenchmark(name.c_str(), train_step, batch_size, torch_threads,
                                   blas_threads)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const tapegrad::bench::LossShape shape : tapegrad::bench::kLossShapes) {
    const std::string suffix = "/batch:" + std::to_string(shape.batch_size) +
                               "/classes:" + std::to_string(shape.num_classes);
    benchmark::RegisterBenchmark(("torch_cross_entropy" + suffix).c_str(), cross_entropy,
                                 shape.batch_size, shape.num_classes)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("torch_cross_entropy_kernels" + suffix).c_str(),
                                 cross_entropy_kernels, shape.batch_size, shape.num_classes)
        ->Unit(benchmark::kMicrosecond);
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
