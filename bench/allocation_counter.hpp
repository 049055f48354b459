// Counts heap allocations made through operator new, for benchmarks that
// report allocations per iteration.
//
// allocation_counter.cpp replaces the global operator new and delete, so only
// a program that links it counts. Memory taken with malloc directly, as
// OpenBLAS does, is not counted.
#pragma once

#include <cstdint>

namespace tapegrad::bench {

// The number of operator new calls in this process so far, on all threads.
std::uint64_t heap_allocation_count();

}  // namespace tapegrad::bench
