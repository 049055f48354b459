#include "core/recycling_allocator.hpp"

#include <array>

namespace tapegrad {
namespace {

constexpr std::size_t kClassCount = kMaxRecycledBytes / kRecyclingClassBytes;

// Whether this thread's free lists have been destroyed. A block freed during
// the program's exit, after the thread-local lists, goes straight to
// operator delete; a bool with no destructor stays readable until then.
thread_local bool free_lists_destroyed = false;

// A free block holds the link to the next one in its own first bytes.
struct FreeBlock {
  FreeBlock* next;
};

class FreeLists {
 public:
  FreeLists() = default;
  FreeLists(const FreeLists&) = delete;
  FreeLists& operator=(const FreeLists&) = delete;

  ~FreeLists() {
    free_lists_destroyed = true;
    for (FreeBlock* head : heads_) {
      while (head != nullptr) {
        FreeBlock* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }

  void* pop(std::size_t size_class) {
    FreeBlock* block = heads_[size_class];
    if (block == nullptr) return nullptr;
    heads_[size_class] = block->next;
    --counts_[size_class];
    return block;
  }

  // Returns false when the list is full, so that the caller frees the block.
  bool push(std::size_t size_class, void* memory) {
    if (counts_[size_class] == kMaxRecycledBlocks) return false;
    auto* block = static_cast<FreeBlock*>(memory);
    block->next = heads_[size_class];
    heads_[size_class] = block;
    ++counts_[size_class];
    return true;
  }

  std::size_t count(std::size_t size_class) const { return counts_[size_class]; }

 private:
  std::array<FreeBlock*, kClassCount> heads_{};
  std::array<std::size_t, kClassCount> counts_{};
};

FreeLists& free_lists() {
  thread_local FreeLists lists;
  return lists;
}

// The class of a request of `bytes`, or kClassCount for one too large to
// recycle. A request of 0 bytes takes the smallest class.
std::size_t size_class(std::size_t bytes) {
  if (bytes > kMaxRecycledBytes) return kClassCount;
  return bytes == 0 ? 0 : (bytes - 1) / kRecyclingClassBytes;
}

}  // namespace

void* detail::recycling_allocate(std::size_t bytes) {
  const std::size_t index = size_class(bytes);
  if (index == kClassCount) return ::operator new(bytes);
  if (!free_lists_destroyed) {
    if (void* block = free_lists().pop(index)) return block;
  }
  return ::operator new((index + 1) * kRecyclingClassBytes);
}

void detail::recycling_deallocate(void* block, std::size_t bytes) noexcept {
  const std::size_t index = size_class(bytes);
  if (index == kClassCount || free_lists_destroyed || !free_lists().push(index, block)) {
    ::operator delete(block);
  }
}

std::size_t detail::recycled_block_count(std::size_t bytes) {
  const std::size_t index = size_class(bytes);
  if (index == kClassCount || free_lists_destroyed) return 0;
  return free_lists().count(index);
}

}  // namespace tapegrad
