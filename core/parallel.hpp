// tapegrad's own threads, which split the work of one op between cores.
//
// With set_num_threads(n), core's gemm splits a large product into n blocks
// of output columns or rows, one per thread, each computed by a
// single-threaded BLAS call. Large elementwise loops, such as an optimizer
// step, split their range the same way. The calling thread and the workers
// claim the parts, so which thread runs a part may vary. A part is always
// the same computation over the same elements, though, so the result never
// depends on timing. No part adds into another's output, so there is no
// reduction whose order could vary.
//
// Why not BLAS's own threads: they would split only the products, not the
// elementwise loops, and a second pool competing for the same cores makes
// both slower (bench/README.md measures libtorch's two pools on 2 cores).
// set_num_threads(n) with n > 1 therefore sets BLAS to 1 thread.
#pragma once

#include <cstddef>
#include <utility>

namespace tapegrad {

// Sets how many threads tapegrad's ops use, the calling thread included.
// Throws ValueError for threads < 1. n > 1 also sets BLAS to 1 thread; call
// set_blas_threads afterwards to change that.
void set_num_threads(int threads);

// Returns how many threads tapegrad's ops use; 1 unless set_num_threads
// changed it.
int num_threads();

namespace detail {

// Runs part(context, i) for every i in [0, parts) and returns when all have
// finished. The calling thread and the pool's workers claim the parts, so a
// worker that is slow to wake leaves its part to the caller. Runs every part
// on the calling thread when parts is 1, when called from inside a part, or
// while another thread is using the pool.
void run_parts(std::size_t parts, void (*part)(void* context, std::size_t index), void* context);

}  // namespace detail

// Splits [0, count) into at most num_threads() contiguous ranges and calls
// body(begin, end) once for each, in parallel. Every range but the last is a
// multiple of `grain` long; a count below 2 · grain runs as one range on the
// calling thread, because waking a worker costs more than it saves.
// body must not throw: an exception cannot cross back from a worker.
template <class Body>
void parallel_for(std::size_t count, std::size_t grain, Body&& body) {
  const auto threads = static_cast<std::size_t>(num_threads());
  if (threads == 1 || grain == 0 || count < 2 * grain) {
    if (count > 0) body(std::size_t{0}, count);
    return;
  }

  // Round each range up to whole grains, and use fewer ranges if the grains
  // run out before the threads do.
  const std::size_t grains = (count + grain - 1) / grain;
  const std::size_t parts = grains < threads ? grains : threads;
  const std::size_t range = (grains + parts - 1) / parts * grain;
  struct Context {
    Body* body;
    std::size_t count;
    std::size_t range;
  } context{&body, count, range};
  detail::run_parts(
      (count + range - 1) / range,
      [](void* opaque, std::size_t index) noexcept {
        const auto& context = *static_cast<Context*>(opaque);
        const std::size_t begin = index * context.range;
        const std::size_t end = begin + context.range < context.count ? begin + context.range
                                                                      : context.count;
        (*context.body)(begin, end);
      },
      &context);
}

}  // namespace tapegrad
