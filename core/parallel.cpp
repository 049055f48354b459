// The worker pool behind parallel_for and core's split GEMMs.
//
// A call publishes its task and bumps `generation_`; workers wait for the
// generation to change, run their part and count down `pending_`, which the
// caller waits on. Both waits spin for a while before they sleep: the ops of
// a training step follow each other within microseconds, and waking a
// sleeping thread costs several of those.
#include "core/parallel.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/gemm.hpp"

namespace tapegrad {
namespace {

// How long a waiting thread spins before it sleeps.
constexpr std::chrono::microseconds kSpinTime{200};

// Tells the CPU that this thread is spinning, which frees resources for the
// other hardware thread of the core.
void pause_spinning() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Waits until `value` differs from `old`, spinning for kSpinTime and then
// sleeping in atomic::wait. Returns the new value.
template <class V>
V wait_for_change(const std::atomic<V>& value, V old) {
  const auto spin_end = std::chrono::steady_clock::now() + kSpinTime;
  for (unsigned spins = 0;; ++spins) {
    const V current = value.load(std::memory_order_acquire);
    if (current != old) return current;
    pause_spinning();
    // Reading the clock costs far more than a load, so check it rarely.
    if (spins % 256 == 255 && std::chrono::steady_clock::now() > spin_end) break;
  }
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    const V current = value.load(std::memory_order_acquire);
    if (current != old) return current;
  }
}

class Pool {
 public:
  ~Pool() { resize(1); }

  int threads() const { return thread_count_.load(std::memory_order_relaxed); }

  // Stops the current workers and starts threads - 1 new ones.
  void resize(int threads) {
    const std::lock_guard<std::mutex> lock(dispatch_mutex_);
    if (!workers_.empty()) {
      stopping_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      generation_.notify_all();
      for (std::thread& worker : workers_) worker.join();
      workers_.clear();
      stopping_.store(false, std::memory_order_relaxed);
    }
    // Workers start from the current generation, read here rather than in
    // the new thread: a task published before a worker first runs must
    // still count as new to it.
    const std::uint64_t start = generation_.load(std::memory_order_relaxed);
    for (int index = 1; index < threads; ++index) {
      workers_.emplace_back([this, index, start] { work(static_cast<std::size_t>(index), start); });
    }
    thread_count_.store(threads, std::memory_order_relaxed);
  }

  void run(std::size_t parts, void (*part)(void*, std::size_t), void* context) {
    // A part that calls run again, or a second thread calling while the
    // pool is busy, runs its parts here: waiting would deadlock or stall.
    std::unique_lock<std::mutex> lock(dispatch_mutex_, std::try_to_lock);
    if (inside_part_ || !lock.owns_lock() || parts <= 1 || workers_.empty()) {
      run_here(parts, part, context);
      return;
    }

    // Publish the task, then wake every worker: each one counts down
    // pending_, whether or not it has a part.
    part_ = part;
    context_ = context;
    parts_ = parts;
    pending_.store(workers_.size(), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();

    inside_part_ = true;
    part(context, 0);
    for (std::size_t index = workers_.size() + 1; index < parts; ++index) part(context, index);
    inside_part_ = false;

    for (std::size_t left = pending_.load(std::memory_order_acquire); left != 0;) {
      left = wait_for_change(pending_, left);
    }
  }

 private:
  static void run_here(std::size_t parts, void (*part)(void*, std::size_t), void* context) {
    const bool was_inside = inside_part_;
    inside_part_ = true;
    for (std::size_t index = 0; index < parts; ++index) part(context, index);
    inside_part_ = was_inside;
  }

  void work(std::size_t index, std::uint64_t seen) {
    inside_part_ = true;
    for (;;) {
      seen = wait_for_change(generation_, seen);
      if (stopping_.load(std::memory_order_relaxed)) return;
      if (index < parts_) part_(context_, index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  // Whether this thread is running a part, so that nested calls run inline.
  static thread_local bool inside_part_;

  std::mutex dispatch_mutex_;
  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int> thread_count_{1};

  // The task of the current generation, written before generation_ is
  // bumped (release) and read after it is seen (acquire).
  void (*part_)(void*, std::size_t) = nullptr;
  void* context_ = nullptr;
  std::size_t parts_ = 0;
};

thread_local bool Pool::inside_part_ = false;

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void set_num_threads(int threads) {
  if (threads < 1) {
    throw ValueError("set_num_threads: threads must be at least 1, got " +
                     std::to_string(threads));
  }
  if (threads > 1) set_blas_threads(1);
  pool().resize(threads);
}

int num_threads() { return pool().threads(); }

void detail::run_parts(std::size_t parts, void (*part)(void*, std::size_t), void* context) {
  pool().run(parts, part, context);
}

}  // namespace tapegrad
