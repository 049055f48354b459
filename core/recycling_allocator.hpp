// A standard allocator that recycles freed blocks, for the small objects
// that the autograd engine creates for every op: nodes, variable states and
// lists of inputs. A training loop creates the same objects every step, so
// after its first steps it takes them all from the free lists.
//
// Requests are rounded up to size classes of kRecyclingClassBytes, up to
// kMaxRecycledBytes. Each thread keeps a free list per class, of at most
// kMaxRecycledBlocks blocks, and returns further blocks to operator delete.
// A block freed on another thread than the one that allocated it joins that
// thread's list. Larger requests go to operator new and delete directly.
#pragma once

#include <cstddef>
#include <new>

namespace tapegrad {

inline constexpr std::size_t kRecyclingClassBytes = 64;
inline constexpr std::size_t kMaxRecycledBytes = 2048;
inline constexpr std::size_t kMaxRecycledBlocks = 256;

namespace detail {

void* recycling_allocate(std::size_t bytes);
void recycling_deallocate(void* block, std::size_t bytes) noexcept;

// The number of free blocks this thread keeps for requests of `bytes`.
std::size_t recycled_block_count(std::size_t bytes);

}  // namespace detail

template <class T>
class RecyclingAllocator {
 public:
  using value_type = T;

  // The blocks come from operator new, so they have its alignment.
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                "RecyclingAllocator: the type needs more alignment than operator new gives");

  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}

  T* allocate(std::size_t count) {
    if (count > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(detail::recycling_allocate(count * sizeof(T)));
  }

  void deallocate(T* block, std::size_t count) noexcept {
    detail::recycling_deallocate(block, count * sizeof(T));
  }

  // Every RecyclingAllocator can free what another one allocated.
  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace tapegrad
