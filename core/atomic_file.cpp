#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/error.hpp"

namespace tapegrad {
namespace {

// Throws FileError for a failed system call, with the message of `error_number`.
[[noreturn]] void throw_system_error(const std::string& path, const std::string& step,
                                     int error_number) {
  throw FileError("write_file_atomically: cannot write '" + path + "': " + step + ": " +
                  std::generic_category().message(error_number));
}

// Returns the permission bits that open(path, O_CREAT, 0666) would give a new
// file. mkstemp creates files with mode 0600 whatever the umask is, so the
// mode is set explicitly to keep checkpoints as readable as other files.
mode_t new_file_mode() {
  // umask() can only be read by changing it, which races with other threads,
  // so the value comes from /proc/self/status (Linux 4.7 and later).
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) != 0) continue;
    char* end = nullptr;
    const unsigned long umask = std::strtoul(line.c_str() + 6, &end, 8);
    if (end != line.c_str() + 6) return 0666 & ~static_cast<mode_t>(umask);
  }
  // The umask is unknown: keep mkstemp's private mode, the safe side.
  return 0600;
}

// Writes all of `bytes` to `fd`. write() may write fewer bytes than asked
// (a signal, a pipe or a file system limit) or fail with EINTR, so it loops.
void write_all(int fd, std::string_view bytes, const std::string& path) {
  const char* next = bytes.data();
  std::size_t remaining = bytes.size();
  while (remaining > 0) {
    const ssize_t written = ::write(fd, next, remaining);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_system_error(path, "write failed", errno);
    }
    if (written == 0) {
      // A regular file never accepts zero bytes without an error, but a loop
      // on it would never end.
      throw FileError("write_file_atomically: cannot write '" + path +
                      "': write made no progress with " + std::to_string(remaining) +
                      " bytes left");
    }
    next += written;
    remaining -= static_cast<std::size_t>(written);
  }
}

// The temporary file until it is renamed into place: on every early exit
// the destructor closes and removes it, so no partial file stays behind.
class TemporaryFile {
 public:
  TemporaryFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Closes the descriptor and returns close()'s result. After a failure, errno
  // contains the reason.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

  void mark_renamed() { renamed_ = true; }

 private:
  std::string path_;
  int fd_;
  bool renamed_ = false;
};

// Flushes the directory entry that rename() changed. Without this, a power
// loss soon after the call could leave `path` with its old contents, or
// missing if it is new, even though the new data reached the disk.
void sync_directory(const std::string& directory, const std::string& path) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw_system_error(
        path,
        "the file is in place, but opening its directory '" + directory + "' to sync it failed",
        errno);
  }
  int result = ::fsync(fd);
  while (result != 0 && errno == EINTR) result = ::fsync(fd);
  const int fsync_error = errno;
  ::close(fd);
  // EINVAL means that this file system cannot sync a directory at all, so
  // there is nothing more to wait for.
  if (result != 0 && fsync_error != EINVAL) {
    throw_system_error(
        path, "the file is in place, but fsync of its directory '" + directory + "' failed",
        fsync_error);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view bytes) {
  if (path.empty()) {
    throw FileError("write_file_atomically: the path is empty; pass the path of a file");
  }
  const std::filesystem::path target(path);
  struct stat target_status {};
  const bool names_directory =
      !target.has_filename() ||
      (::stat(path.c_str(), &target_status) == 0 && S_ISDIR(target_status.st_mode));
  if (names_directory) {
    throw FileError("write_file_atomically: cannot write '" + path +
                    "': it names a directory; pass the path of a file inside it");
  }
  const std::string directory = target.has_parent_path() ? target.parent_path().string() : ".";

  // The temporary file sits in the target's directory because rename() is
  // atomic only within one file system.
  std::string temporary_path = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(temporary_path.data(), O_CLOEXEC);
  if (fd < 0) {
    const int error_number = errno;
    const std::string hint = error_number == ENOENT ? "; create the directory first" : "";
    throw FileError("write_file_atomically: cannot write '" + path +
                    "': creating a temporary file in directory '" + directory +
                    "' failed: " + std::generic_category().message(error_number) + hint);
  }
  TemporaryFile temporary(temporary_path, fd);

  if (::fchmod(temporary.fd(), new_file_mode()) != 0) {
    throw_system_error(path, "setting the permissions of '" + temporary.path() + "' failed", errno);
  }
  write_all(temporary.fd(), bytes, path);

  // fsync comes before rename because the file system may otherwise commit
  // the rename before the data. A crash in between would then leave `path`
  // empty or partly written.
  int result = ::fsync(temporary.fd());
  while (result != 0 && errno == EINTR) result = ::fsync(temporary.fd());
  if (result != 0) throw_system_error(path, "fsync failed", errno);

  // Some file systems (NFS among them) report write errors only at close.
  if (temporary.close() != 0) throw_system_error(path, "close failed", errno);

  if (::rename(temporary.path().c_str(), path.c_str()) != 0) {
    throw_system_error(path, "renaming '" + temporary.path() + "' over it failed", errno);
  }
  temporary.mark_renamed();

  sync_directory(directory, path);
}

}  // namespace tapegrad
