// The per-thread tensor pool, and the autograd engine's use of it.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// Empties this thread's float pool before and after a test, so that buffers
// of other tests do not change the counts.
class EmptyPoolScope {
 public:
  EmptyPoolScope() { clear_tensor_pool<float>(); }
  ~EmptyPoolScope() { clear_tensor_pool<float>(); }
  EmptyPoolScope(const EmptyPoolScope&) = delete;
  EmptyPoolScope& operator=(const EmptyPoolScope&) = delete;
};

}  // namespace

TEST_CASE("tensor pool reuses a buffer of the same size") {
  const EmptyPoolScope empty;
  Tensor<float> first = pooled_tensor<float>({4, 6});
  CHECK(first.shape() == Tensor<float>::shape_type{4, 6});
  const float* buffer = first.data();

  recycle(std::move(first));
  CHECK(first.size() == 0);
  CHECK(pooled_tensor_count<float>() == 1);

  // 24 elements in another shape take the same buffer.
  const Tensor<float> second = pooled_tensor<float>({2, 3, 4});
  CHECK(second.data() == buffer);
  CHECK(second.shape() == Tensor<float>::shape_type{2, 3, 4});
  CHECK(second.strides() == Tensor<float>::strides_type{12, 4, 1});
  CHECK(pooled_tensor_count<float>() == 0);
}

TEST_CASE("tensor pool allocates for another size") {
  const EmptyPoolScope empty;
  recycle(pooled_tensor<float>({10}));
  const Tensor<float> other = pooled_tensor<float>({11});
  CHECK(other.size() == 11);
  CHECK(pooled_tensor_count<float>() == 1);
}

TEST_CASE("tensor pool handles scalars and empty tensors") {
  const EmptyPoolScope empty;
  Tensor<float> scalar = pooled_tensor<float>({});
  CHECK(scalar.dimension() == 0);
  CHECK(scalar.size() == 1);
  recycle(std::move(scalar));
  CHECK(pooled_tensor_count<float>() == 1);

  // An empty tensor has no buffer to keep.
  recycle(pooled_tensor<float>({0, 5}));
  CHECK(pooled_tensor_count<float>() == 1);
  CHECK(pooled_tensor<float>({3, 0}).size() == 0);
}

TEST_CASE("tensor pool keeps a bounded number of buffers") {
  const EmptyPoolScope empty;
  for (std::size_t i = 0; i < kMaxPooledTensors + 10; ++i) recycle(pooled_tensor<float>({i + 1}));
  CHECK(pooled_tensor_count<float>() == kMaxPooledTensors);
}

TEST_CASE("tensor pool keeps a bounded number of bytes") {
  const EmptyPoolScope empty;
  // One buffer of just over half the byte limit fits; a second does not.
  const std::size_t elements = kMaxPooledBytes / sizeof(float) / 2 + 1;
  recycle(pooled_tensor<float>({elements}));
  recycle(pooled_tensor<float>({elements + 1}));
  CHECK(pooled_tensor_count<float>() == 1);
}

TEST_CASE("tensor pool is per thread") {
  const EmptyPoolScope empty;
  recycle(pooled_tensor<float>({8}));
  std::size_t other_thread_count = 99;
  std::thread other([&] { other_thread_count = pooled_tensor_count<float>(); });
  other.join();
  CHECK(other_thread_count == 0);
  CHECK(pooled_tensor_count<float>() == 1);
}

TEST_CASE("pooled buffers do not leak old values") {
  // The second pass takes buffers filled with NaN from the pool; every op
  // must overwrite them, so both passes agree exactly.
  const EmptyPoolScope empty;
  Generator generator(1);
  Variable<float> weight(generator.uniform_tensor<float>({3, 5}, -1.0f, 1.0f), true);
  Variable<float> bias(generator.uniform_tensor<float>({3}, -1.0f, 1.0f), true);
  const Variable<float> x(generator.uniform_tensor<float>({2, 5}, -1.0f, 1.0f));
  const auto run_pass = [&] {
    weight.zero_grad();
    bias.zero_grad();
    const Variable<float> y = sum(relu(linear(x, weight, bias)));
    y.backward();
    return std::vector<Tensor<float>>{y.value(), weight.grad(), bias.grad()};
  };

  const std::vector<Tensor<float>> first = run_pass();
  clear_tensor_pool<float>();
  for (const std::size_t size : {1, 1, 3, 6, 6, 6, 6, 15}) {
    Tensor<float> poisoned = Tensor<float>::from_shape({size});
    poisoned.fill(std::numeric_limits<float>::quiet_NaN());
    recycle(std::move(poisoned));
  }
  const std::vector<Tensor<float>> second = run_pass();
  for (std::size_t i = 0; i < first.size(); ++i) {
    CAPTURE(i);
    CHECK(second[i] == first[i]);
  }
}

TEST_CASE("tensor pool takes back a step's buffers") {
  // A finished step gives its results' values and gradients back, and the
  // next step of the same shapes takes them instead of allocating.
  const EmptyPoolScope empty;
  Generator generator(2);
  const Variable<float> weight(generator.uniform_tensor<float>({3, 5}, -1.0f, 1.0f), true);
  const Variable<float> x(generator.uniform_tensor<float>({2, 5}, -1.0f, 1.0f));
  const Tensor<float> grad_output = xt::ones<float>({2, 3});
  const auto step = [&] {
    const Variable<float> y = relu(linear(x, weight));
    y.backward(grad_output);
  };

  // The values of linear and relu, and the gradients of both and of the
  // seed, come back.
  step();
  CHECK(pooled_tensor_count<float>() == 4);
  step();
  CHECK(pooled_tensor_count<float>() == 4);
}
