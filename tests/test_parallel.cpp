// set_num_threads, parallel_for, and core's gemm split across threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// Sets the thread count for one test and restores 1 afterwards, so that a
// failing check does not leave the other tests threaded.
class ThreadsScope {
 public:
  explicit ThreadsScope(int threads) { set_num_threads(threads); }
  ~ThreadsScope() { set_num_threads(1); }
  ThreadsScope(const ThreadsScope&) = delete;
  ThreadsScope& operator=(const ThreadsScope&) = delete;
};

// The ranges one parallel_for passes to its body, in the order of their
// starts.
std::vector<std::pair<std::size_t, std::size_t>> ranges_of(std::size_t count, std::size_t grain) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges(8, {0, 0});
  std::atomic<std::size_t> calls{0};
  parallel_for(count, grain, [&](std::size_t begin, std::size_t end) {
    ranges[calls.fetch_add(1)] = {begin, end};
  });
  ranges.resize(calls.load());
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

}  // namespace

TEST_CASE("set_num_threads rejects zero") {
  CHECK_THROWS_AS(set_num_threads(0), ValueError);
  CHECK_THROWS_WITH(set_num_threads(-2),
                    "set_num_threads: threads must be at least 1, got -2");
  CHECK(num_threads() == 1);
}

TEST_CASE("set_num_threads sets BLAS to one thread") {
  set_blas_threads(2);
  const ThreadsScope threads(2);
  CHECK(num_threads() == 2);
  CHECK(blas_threads() == 1);
}

TEST_CASE("parallel_for covers the range once") {
  for (const int threads : {1, 2, 3}) {
    CAPTURE(threads);
    const ThreadsScope scope(threads);
    for (const std::size_t count : {0, 1, 31, 32, 33, 100, 1000}) {
      CAPTURE(count);
      std::vector<std::atomic<int>> visits(count);
      parallel_for(count, 16, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) visits[i].fetch_add(1);
      });
      for (std::size_t i = 0; i < count; ++i) {
        CAPTURE(i);
        CHECK(visits[i].load() == 1);
      }
    }
  }
}

TEST_CASE("parallel_for splits at whole grains") {
  const ThreadsScope threads(2);

  SUBCASE("below two grains runs as one range") {
    CHECK(ranges_of(31, 16) == std::vector<std::pair<std::size_t, std::size_t>>{{0, 31}});
  }
  SUBCASE("two threads take a half each") {
    CHECK(ranges_of(64, 16) ==
          std::vector<std::pair<std::size_t, std::size_t>>{{0, 32}, {32, 64}});
  }
  SUBCASE("the first range rounds up to whole grains") {
    CHECK(ranges_of(50, 16) ==
          std::vector<std::pair<std::size_t, std::size_t>>{{0, 32}, {32, 50}});
  }
}

TEST_CASE("parallel_for runs on another thread") {
  // Part 0 waits for part 1 to start, so part 1 must run on another thread
  // while part 0 waits. The wait gives up after 10 s, so that a pool that
  // never runs a worker fails the check instead of hanging.
  const ThreadsScope threads(2);
  std::vector<std::thread::id> ids(2);
  std::atomic<bool> second_started{false};
  parallel_for(2, 1, [&](std::size_t begin, std::size_t) {
    ids[begin] = std::this_thread::get_id();
    if (begin == 1) {
      second_started.store(true);
      return;
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!second_started.load() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  });
  CHECK(second_started.load());
  CHECK(ids[0] != ids[1]);
}

TEST_CASE("parallel_for nested runs inline") {
  const ThreadsScope threads(2);
  std::vector<std::atomic<int>> visits(64 * 64);
  parallel_for(64, 16, [&](std::size_t outer_begin, std::size_t outer_end) {
    for (std::size_t row = outer_begin; row < outer_end; ++row) {
      parallel_for(64, 16, [&](std::size_t begin, std::size_t end) {
        for (std::size_t col = begin; col < end; ++col) visits[row * 64 + col].fetch_add(1);
      });
    }
  });
  int wrong = 0;
  for (const auto& count : visits) wrong += count.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("parallel_for from two threads at once") {
  // The second caller finds the pool busy and runs its ranges itself.
  const ThreadsScope threads(2);
  std::vector<std::atomic<int>> visits(2 * 4096);
  const auto fill = [&](std::size_t offset) {
    for (int repeat = 0; repeat < 50; ++repeat) {
      parallel_for(4096, 16, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) visits[offset + i].fetch_add(1);
      });
    }
  };
  std::thread other(fill, 4096);
  fill(0);
  other.join();
  int wrong = 0;
  for (const auto& count : visits) wrong += count.load() != 50;
  CHECK(wrong == 0);
}

TEST_CASE_TEMPLATE("gemm split across threads matches one thread", T, float, double) {
  Generator generator(3);
  // Each shape is large enough to be split: the first by columns, the
  // second by rows, the third into an uneven last block.
  const std::vector<std::vector<std::size_t>> shapes = {{64, 300, 256}, {300, 256, 64},
                                                        {129, 257, 150}};
  for (const auto& shape : shapes) {
    const std::size_t rows = shape[0], inner = shape[1], cols = shape[2];
    CAPTURE(rows);
    CAPTURE(inner);
    CAPTURE(cols);
    for (const bool transpose_a : {false, true}) {
      for (const bool transpose_b : {false, true}) {
        CAPTURE(transpose_a);
        CAPTURE(transpose_b);
        const Tensor<T> a = generator.uniform_tensor<T>(
            transpose_a ? std::vector<std::size_t>{inner, rows}
                        : std::vector<std::size_t>{rows, inner},
            T(-1), T(1));
        const Tensor<T> b = generator.uniform_tensor<T>(
            transpose_b ? std::vector<std::size_t>{cols, inner}
                        : std::vector<std::size_t>{inner, cols},
            T(-1), T(1));
        const Transpose flag_a = transpose_a ? Transpose::yes : Transpose::no;
        const Transpose flag_b = transpose_b ? Transpose::yes : Transpose::no;
        const Tensor<T> start = generator.uniform_tensor<T>({rows, cols}, T(-1), T(1));

        set_num_threads(1);
        Tensor<T> one_thread = start;
        gemm(a, flag_a, b, flag_b, T(0.5), T(2), one_thread);
        const Tensor<T> one_thread_product = matmul(a, b, flag_a, flag_b);

        const ThreadsScope threads(2);
        Tensor<T> two_threads = start;
        gemm(a, flag_a, b, flag_b, T(0.5), T(2), two_threads);
        const Tensor<T> two_threads_product = matmul(a, b, flag_a, flag_b);

        // Each element is summed by the same kernel in the same order, so
        // the results agree to rounding; the tolerance allows for BLAS using
        // another kernel at a block's edge.
        const double tolerance = (sizeof(T) == 4 ? 1e-6 : 1e-14) * static_cast<double>(inner);
        const double gemm_difference = xt::amax(xt::abs(two_threads - one_thread))();
        const double matmul_difference =
            xt::amax(xt::abs(two_threads_product - one_thread_product))();
        CAPTURE(gemm_difference);
        CAPTURE(matmul_difference);
        CHECK(gemm_difference <= tolerance);
        CHECK(matmul_difference <= tolerance);
      }
    }
  }
}
