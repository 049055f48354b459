// The recycling allocator behind nodes, variable states and input lists.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

TEST_CASE("recycling allocator reuses a freed block") {
  RecyclingAllocator<std::uint64_t> allocator;
  std::uint64_t* first = allocator.allocate(5);
  first[4] = 7;
  allocator.deallocate(first, 5);

  // 40 and 48 bytes share the 64-byte class: the block comes back.
  std::uint64_t* second = allocator.allocate(6);
  CHECK(second == first);
  allocator.deallocate(second, 6);
}

TEST_CASE("recycling allocator counts free blocks per class") {
  RecyclingAllocator<char> allocator;
  const std::size_t before = detail::recycled_block_count(100);
  char* block = allocator.allocate(100);
  const std::size_t taken = before > 0 ? before - 1 : 0;
  CHECK(detail::recycled_block_count(100) == taken);
  allocator.deallocate(block, 100);
  CHECK(detail::recycled_block_count(100) == taken + 1);
  // 100 bytes and 128 bytes are one class, and 129 bytes is the next.
  CHECK(detail::recycled_block_count(128) == taken + 1);
  allocator.deallocate(allocator.allocate(129), 129);
  CHECK(detail::recycled_block_count(128) == taken + 1);
}

TEST_CASE("recycling allocator frees large blocks directly") {
  RecyclingAllocator<char> allocator;
  char* block = allocator.allocate(kMaxRecycledBytes + 1);
  block[kMaxRecycledBytes] = 'x';
  allocator.deallocate(block, kMaxRecycledBytes + 1);
  CHECK(detail::recycled_block_count(kMaxRecycledBytes + 1) == 0);
}

TEST_CASE("recycling allocator keeps a bounded number of blocks") {
  RecyclingAllocator<char> allocator;
  std::vector<char*> blocks;
  for (std::size_t i = 0; i < kMaxRecycledBlocks + 10; ++i) blocks.push_back(allocator.allocate(1000));
  for (char* block : blocks) allocator.deallocate(block, 1000);
  CHECK(detail::recycled_block_count(1000) == kMaxRecycledBlocks);
}

TEST_CASE("recycling allocator rejects an overflowing count") {
  RecyclingAllocator<std::uint64_t> allocator;
  CHECK_THROWS_AS(allocator.allocate(static_cast<std::size_t>(-1) / 4), std::bad_array_new_length);
}

TEST_CASE("recycling allocator takes blocks freed on another thread") {
  RecyclingAllocator<double> allocator;
  double* block = nullptr;
  std::thread other([&] { block = allocator.allocate(3); });
  other.join();
  const std::size_t before = detail::recycled_block_count(3 * sizeof(double));
  allocator.deallocate(block, 3);
  CHECK(detail::recycled_block_count(3 * sizeof(double)) == before + 1);
}

TEST_CASE("recycling allocator serves vectors and shared pointers") {
  std::vector<int, RecyclingAllocator<int>> numbers;
  for (int i = 0; i < 1000; ++i) numbers.push_back(i);
  CHECK(numbers[999] == 999);

  const auto shared = std::allocate_shared<std::vector<int>>(RecyclingAllocator<std::vector<int>>(),
                                                             std::vector<int>{1, 2, 3});
  CHECK(shared->size() == 3);
}
