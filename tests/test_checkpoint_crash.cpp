// Checkpoints survive a crash of the writer: a child process saves
// checkpoints in a loop and is killed with SIGKILL at a random moment, 100
// times. After each kill the checkpoint on disk must load, and it must be the
// one that the child was writing or the one before it.
//
// Checkpoint k has every parameter equal to k and its epoch set to k, so the
// loaded file shows which save it came from and that its parts belong
// together. The child publishes k in shared memory before it starts saving
// checkpoint k.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "tapegrad.hpp"
#include "temporary_directory.hpp"

using namespace tapegrad;

namespace {

constexpr int kRounds = 100;

// The maximum wait after the child starts a save, before the kill. Saving
// the 17 KB checkpoint below, with its two fsync calls, takes milliseconds,
// so the kills fall before, during and after the rename.
constexpr std::uint64_t kMaxDelayMicroseconds = 8000;

// The counter that the child updates and the parent reads, in memory that
// both processes share.
class SharedCounter {
 public:
  SharedCounter() {
    void* memory = ::mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(memory != MAP_FAILED);
    counter_ = new (memory) std::atomic<std::uint64_t>(0);
  }
  ~SharedCounter() { ::munmap(counter_, sizeof(std::atomic<std::uint64_t>)); }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  std::atomic<std::uint64_t>& get() { return *counter_; }

 private:
  std::atomic<std::uint64_t>* counter_ = nullptr;
};

void fill_parameters(const Module<float>& model, std::uint64_t value) {
  for (Variable<float> parameter : model.parameters()) {
    parameter.mutable_value().fill(static_cast<float>(value));
  }
}

void save_checkpoint(const std::string& path, const Module<float>& model, std::uint64_t k) {
  fill_parameters(model, k);
  save(path, model, TrainingState<float>{nullptr, nullptr, nullptr, k});
}

// The child's loop: saves checkpoints first, first + 1, ... until it is
// killed. It never returns, so the test framework does not run twice.
[[noreturn]] void save_until_killed(const std::string& path, const Module<float>& model,
                                    std::uint64_t first, std::atomic<std::uint64_t>& started,
                                    pid_t parent) {
  // Dies with the parent, so that a failed test leaves no writer behind.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(3);
  try {
    for (std::uint64_t k = first;; ++k) {
      started.store(k);
      save_checkpoint(path, model, k);
    }
  } catch (...) {
    ::_exit(2);
  }
}

// Removes the temporary files of killed writers, "<name>.tmp.XXXXXX", and
// returns how many there were.
int remove_temporary_files(const std::filesystem::path& folder, const std::string& name) {
  int removed = 0;
  for (const std::string& entry : TemporaryDirectory::entries_of(folder)) {
    if (entry.rfind(name + ".tmp.", 0) == 0) {
      std::filesystem::remove(folder / entry);
      ++removed;
    }
  }
  return removed;
}

}  // namespace

TEST_CASE("checkpoint survives SIGKILL during saves") {
  TemporaryDirectory folder;
  const std::string name = "model.safetensors";
  const std::string path = folder.file(name);

  Generator generator(7);
  Linear<float> model(64, 64, /*bias=*/true, generator);
  Linear<float> loaded(64, 64, /*bias=*/true, generator);
  save_checkpoint(path, model, 0);

  SharedCounter shared;
  std::atomic<std::uint64_t>& started = shared.get();
  Generator delays(2024);
  std::uint64_t on_disk = 0;
  int kept_previous = 0;
  int got_new = 0;
  int temporary_files = 0;

  for (int round = 0; round < kRounds; ++round) {
    CAPTURE(round);
    const std::uint64_t first = on_disk + 1;
    started.store(0);
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) save_until_killed(path, model, first, started, parent);

    // Kill at a random moment after the child has started its first save.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < first && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delays.below(kMaxDelayMicroseconds)));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    // Any other end means the child failed before the kill.
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    const std::uint64_t writing = started.load();
    REQUIRE(writing >= first);
    temporary_files += remove_temporary_files(folder.path(), name);

    TrainingState<float> state;
    REQUIRE_NOTHROW(load(path, loaded, state));
    CAPTURE(writing);
    CAPTURE(state.epoch);
    const bool is_new = state.epoch == writing;
    const bool is_previous = state.epoch == writing - 1;
    CHECK((is_new || is_previous));
    for (const Variable<float>& parameter : loaded.parameters()) {
      const Tensor<float>& values = parameter.value();
      CHECK(std::all_of(values.begin(), values.end(), [&](float value) {
        return value == static_cast<float>(state.epoch);
      }));
    }
    kept_previous += is_previous ? 1 : 0;
    got_new += is_new ? 1 : 0;
    on_disk = state.epoch;
  }

  // Only the checkpoint and no temporary file is left.
  CHECK(TemporaryDirectory::entries_of(folder.path()) == std::vector<std::string>{name});
  // The children completed saves, so the kills did not all land in the first one.
  CHECK(on_disk > 0);
  MESSAGE(kRounds << " kills: " << kept_previous << " left the previous checkpoint, " << got_new
                  << " the new one; " << temporary_files
                  << " temporary files were left behind and removed; the last checkpoint is "
                  << on_disk);
}
