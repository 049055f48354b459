// The worker pool behind parallel_for and core's split GEMMs.
//
// A task is a number of parts that any thread may claim: the caller and the
// workers take parts one at a time until none is left, and the caller then
// waits for the parts that workers are still running. So a worker that is
// slow to wake, as on a machine busy with other processes, never delays the
// caller, which runs the remaining parts itself.
//
// Workers sleep between tasks, but first spin for a while: the ops of a
// training step follow each other within microseconds, and waking a
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

// How long a waiting thread spins before it sleeps, and after how many
// spins it starts to yield its core to other threads while it spins.
constexpr std::chrono::microseconds kSpinTime{200};
constexpr unsigned kSpinsBeforeYield = 1024;

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
    if (spins < kSpinsBeforeYield) {
      pause_spinning();
      continue;
    }
    std::this_thread::yield();
    // Reading the clock costs far more than a load, so check it rarely.
    if (spins % 64 == 0 && std::chrono::steady_clock::now() > spin_end) break;
  }
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    const V current = value.load(std::memory_order_acquire);
    if (current != old) return current;
  }
}

// The claim word packs a task's number (high 32 bits), its number of parts
// (16 bits) and the index of its next unclaimed part (low 16 bits). So one
// compare-and-swap claims a part of one task and can never mix up two.
constexpr std::size_t kMaxParts = 0xFFFF;

std::uint64_t pack_claims(std::uint64_t task, std::size_t parts) {
  return (task << 32) | (static_cast<std::uint64_t>(parts) << 16);
}
std::size_t claimed_parts(std::uint64_t claims) { return claims & 0xFFFF; }
std::size_t task_parts(std::uint64_t claims) { return (claims >> 16) & 0xFFFF; }

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
      workers_.emplace_back([this, start] { work(start); });
    }
    thread_count_.store(threads, std::memory_order_relaxed);
  }

  void run(std::size_t parts, void (*part)(void*, std::size_t), void* context) {
    // A part that calls run again, or a second thread calling while the
    // pool is busy, runs its parts here: waiting would deadlock or stall.
    std::unique_lock<std::mutex> lock(dispatch_mutex_, std::try_to_lock);
    if (inside_part_ || !lock.owns_lock() || parts <= 1 || parts > kMaxParts ||
        workers_.empty()) {
      run_here(parts, part, context);
      return;
    }

    // Publish the task. The claim word is stored last, with release, so a
    // thread that claims a part also reads this task's part_ and context_.
    part_ = part;
    context_ = context;
    done_.store(0, std::memory_order_relaxed);
    ++task_;
    claims_.store(pack_claims(task_, parts), std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();

    inside_part_ = true;
    run_claimed_parts();
    inside_part_ = false;

    for (std::size_t done = done_.load(std::memory_order_acquire); done != parts;) {
      done = wait_for_change(done_, done);
    }
  }

 private:
  static void run_here(std::size_t parts, void (*part)(void*, std::size_t), void* context) {
    const bool was_inside = inside_part_;
    inside_part_ = true;
    for (std::size_t index = 0; index < parts; ++index) part(context, index);
    inside_part_ = was_inside;
  }

  // Claims and runs parts of the current task until none is left.
  void run_claimed_parts() {
    std::uint64_t claims = claims_.load(std::memory_order_acquire);
    for (;;) {
      const std::size_t index = claimed_parts(claims);
      const std::size_t parts = task_parts(claims);
      if (index >= parts) return;
      if (!claims_.compare_exchange_weak(claims, claims + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        continue;
      }
      // The task cannot change while one of its parts is unfinished, so
      // part_ and context_ are this task's.
      part_(context_, index);
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) done_.notify_one();
      claims = claims_.load(std::memory_order_acquire);
    }
  }

  void work(std::uint64_t seen) {
    inside_part_ = true;
    for (;;) {
      seen = wait_for_change(generation_, seen);
      if (stopping_.load(std::memory_order_relaxed)) return;
      run_claimed_parts();
    }
  }

  // Whether this thread is running a part, so that nested calls run inline.
  static thread_local bool inside_part_;

  std::mutex dispatch_mutex_;
  std::vector<std::thread> workers_;
  std::atomic<int> thread_count_{1};

  // Bumped to wake the workers for a task, or to stop them.
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};

  // The current task: its claim word, its finished parts, and what a part
  // runs. part_ and context_ are written before claims_ (release) and read
  // after a part is claimed (acquire).
  std::uint64_t task_ = 0;
  std::atomic<std::uint64_t> claims_{0};
  std::atomic<std::size_t> done_{0};
  void (*part_)(void*, std::size_t) = nullptr;
  void* context_ = nullptr;
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
