// GEMM benchmarks: each GEMM of the MLP's training step on its own, through
// tapegrad's gemm, and the floor of a whole step: its 8 GEMMs as raw
// cblas_sgemm calls, with no autograd, bias, activation, loss or update.
//
// Shapes, for a layer with `in` inputs and `out` outputs at batch size B:
//   forward       y [B, out]  = x [B, in] · Wᵀ          (W is [out, in])
//   grad_weight   dW [out, in] = dyᵀ · x   [out, B]·[B, in]
//   grad_input    dx [B, in]  = dy · W     [B, out]·[out, in]
// The first layer has no grad_input GEMM, because the input batch needs no
// gradient.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <string>
#include <vector>

#include "bench/mlp.hpp"
#include "core/gemm.hpp"
#include "core/random.hpp"

namespace {

using tapegrad::Tensor;
using tapegrad::Transpose;
using tapegrad::bench::kLayerWidths;
using tapegrad::bench::kNumLayers;

Tensor<float> random_matrix(std::size_t rows, std::size_t cols, tapegrad::Generator& generator) {
  return generator.uniform_tensor<float>({rows, cols}, -1.0f, 1.0f);
}

// One GEMM out = op(a) · op(b) through tapegrad::gemm, on one BLAS thread.
void gemm_shape(benchmark::State& state, Tensor<float> a, Transpose transpose_a, Tensor<float> b,
                Transpose transpose_b, std::size_t rows, std::size_t cols, std::size_t inner) {
  tapegrad::set_blas_threads(1);
  Tensor<float> out = Tensor<float>::from_shape({rows, cols});
  for (auto _ : state) {
    tapegrad::gemm(a, transpose_a, b, transpose_b, 1.0f, 0.0f, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * rows * cols * inner,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void register_gemm_shapes(std::size_t batch_size, tapegrad::Generator& generator) {
  for (std::size_t layer = 0; layer < kNumLayers; ++layer) {
    const std::size_t in = kLayerWidths[layer];
    const std::size_t out = kLayerWidths[layer + 1];
    const std::string prefix =
        "gemm/batch:" + std::to_string(batch_size) + "/layer:" + std::to_string(layer) + "/";
    Tensor<float> x = random_matrix(batch_size, in, generator);
    Tensor<float> weight = random_matrix(out, in, generator);
    Tensor<float> grad_output = random_matrix(batch_size, out, generator);

    benchmark::RegisterBenchmark((prefix + "forward").c_str(), gemm_shape, x, Transpose::no,
                                 weight, Transpose::yes, batch_size, out, in)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((prefix + "grad_weight").c_str(), gemm_shape, grad_output,
                                 Transpose::yes, x, Transpose::no, out, in, batch_size)
        ->Unit(benchmark::kMicrosecond);
    if (layer > 0) {
      benchmark::RegisterBenchmark((prefix + "grad_input").c_str(), gemm_shape, grad_output,
                                   Transpose::no, weight, Transpose::no, batch_size, in, out)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

// The buffers of the 8 GEMMs of one step, per layer.
struct LayerBuffers {
  std::vector<float> weight;       // [out, in]
  std::vector<float> grad_weight;  // [out, in]
  std::vector<float> output;       // [B, out], the layer's output and the next layer's input
  std::vector<float> grad_output;  // [B, out]
  std::vector<float> grad_input;   // [B, in]
};

// The step's GEMMs in the order a step runs them: the forward pass layer by
// layer, then backward from the last layer, with the transpose flags that
// tapegrad's linear uses. The outputs are not used between the calls: this
// is the time of the GEMMs alone.
void gemm_only_step(benchmark::State& state, std::size_t batch_size, int threads) {
  openblas_set_num_threads(threads);
  tapegrad::Generator generator(1);
  const std::vector<float> input = [&] {
    const Tensor<float> values = random_matrix(batch_size, kLayerWidths[0], generator);
    return std::vector<float>(values.begin(), values.end());
  }();
  std::vector<LayerBuffers> layers(kNumLayers);
  for (std::size_t layer = 0; layer < kNumLayers; ++layer) {
    const std::size_t in = kLayerWidths[layer];
    const std::size_t out = kLayerWidths[layer + 1];
    const Tensor<float> weight = random_matrix(out, in, generator);
    layers[layer].weight.assign(weight.begin(), weight.end());
    layers[layer].grad_weight.assign(out * in, 0.0f);
    layers[layer].output.assign(batch_size * out, 0.1f);
    layers[layer].grad_output.assign(batch_size * out, 0.1f);
    layers[layer].grad_input.assign(batch_size * in, 0.0f);
  }
  const auto batch = static_cast<blasint>(batch_size);

  for (auto _ : state) {
    for (std::size_t layer = 0; layer < kNumLayers; ++layer) {
      const auto in = static_cast<blasint>(kLayerWidths[layer]);
      const auto out = static_cast<blasint>(kLayerWidths[layer + 1]);
      const float* x = layer == 0 ? input.data() : layers[layer - 1].output.data();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1.0f, x, in,
                  layers[layer].weight.data(), in, 0.0f, layers[layer].output.data(), out);
    }
    for (std::size_t layer = kNumLayers; layer-- > 0;) {
      const auto in = static_cast<blasint>(kLayerWidths[layer]);
      const auto out = static_cast<blasint>(kLayerWidths[layer + 1]);
      const float* x = layer == 0 ? input.data() : layers[layer - 1].output.data();
      LayerBuffers& buffers = layers[layer];
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1.0f,
                  buffers.grad_output.data(), out, x, in, 0.0f, buffers.grad_weight.data(), in);
      if (layer > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1.0f,
                    buffers.grad_output.data(), out, buffers.weight.data(), in, 0.0f,
                    buffers.grad_input.data(), in);
      }
    }
    benchmark::ClobberMemory();
  }
  tapegrad::bench::set_step_flop_counters(state, batch_size);
  openblas_set_num_threads(1);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  tapegrad::Generator generator(1);
  for (const std::size_t batch_size : tapegrad::bench::kBatchSizes) {
    register_gemm_shapes(batch_size, generator);
  }
  for (const std::size_t batch_size : tapegrad::bench::kBatchSizes) {
    for (const int threads : tapegrad::bench::kThreadCounts) {
      const std::string name = "gemm_only_step/batch:" + std::to_string(batch_size) +
                               "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), gemm_only_step, batch_size, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
