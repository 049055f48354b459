// Helpers shared by the fuzz targets: a file that holds the current input,
// so that the readers that take a path see the same bytes, and the check that
// ends a run when a property fails.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tapegrad::fuzz {

// Aborts with `property` on stderr unless `condition` holds. libFuzzer
// records an abort as a crash and saves the input that caused it.
inline void require(bool condition, std::string_view property) {
  if (condition) return;
  std::fprintf(stderr, "fuzz property failed: %.*s\n", static_cast<int>(property.size()),
               property.data());
  std::abort();
}

// An anonymous in-memory file (memfd_create) that holds one input at a time.
// Its path, /proc/self/fd/N, opens like a regular file, without the cost and
// the leftovers of files on disk.
class InputFile {
 public:
  InputFile() : fd_(::memfd_create("fuzz-input", MFD_CLOEXEC)) {
    require(fd_ >= 0, "memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Replaces the file's contents with `bytes`.
  void write(const void* bytes, std::size_t size) {
    require(::ftruncate(fd_, 0) == 0, "ftruncate of the input file failed");
    const char* next = static_cast<const char*>(bytes);
    std::size_t remaining = size;
    off_t offset = 0;
    while (remaining > 0) {
      const ssize_t written = ::pwrite(fd_, next, remaining, offset);
      require(written > 0, "pwrite of the input file failed");
      next += written;
      offset += written;
      remaining -= static_cast<std::size_t>(written);
    }
  }

  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Returns `message` without its first word, the name of the function that
// threw, so that errors of a path reader and a memory reader compare equal.
inline std::string_view without_function_name(std::string_view message) {
  const std::size_t colon = message.find(": ");
  return colon == std::string_view::npos ? message : message.substr(colon);
}

}  // namespace tapegrad::fuzz
