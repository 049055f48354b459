// write_file_atomically on real files in a temporary folder: new files,
// replacement, and failures that must leave the earlier file and no
// temporary file behind.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "temporary_directory.hpp"

using namespace tapegrad;

namespace {

using Names = std::vector<std::string>;

// Lowers the maximum file size this process may write, so that write() fails
// with EFBIG after the temporary file exists. The destructor restores the limit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    // Exceeding the limit raises SIGXFSZ, which would end the test program.
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit lowered = previous_;
    lowered.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lowered) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    ::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  sighandler_t previous_handler_;
};

}  // namespace

TEST_CASE("atomic write creates a new file") {
  TemporaryDirectory folder;
  const std::string path = folder.file("weights.bin");
  std::string bytes = "first line\n";
  bytes.push_back('\0');
  bytes += "after a zero byte";

  write_file_atomically(path, bytes);

  CHECK(read_file_bytes(path) == bytes);
  CHECK(folder.entries() == Names{"weights.bin"});
}

TEST_CASE("atomic write replaces an existing file") {
  TemporaryDirectory folder;
  const std::string path = folder.file("weights.bin");
  write_file_bytes(path, std::string(1000, 'a'));

  write_file_atomically(path, "shorter");

  CHECK(read_file_bytes(path) == "shorter");
  CHECK(folder.entries() == Names{"weights.bin"});
}

TEST_CASE("atomic write of empty and large contents") {
  TemporaryDirectory folder;
  write_file_atomically(folder.file("empty.bin"), "");
  CHECK(std::filesystem::exists(folder.file("empty.bin")));
  CHECK(std::filesystem::file_size(folder.file("empty.bin")) == 0);

  std::string large(3 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 31 % 251);
  write_file_atomically(folder.file("large.bin"), large);
  CHECK(read_file_bytes(folder.file("large.bin")) == large);
}

TEST_CASE("atomic write to a relative path") {
  TemporaryDirectory folder;
  const std::filesystem::path previous = std::filesystem::current_path();
  std::filesystem::current_path(folder.path());

  write_file_atomically("relative.bin", "in the working directory");

  std::filesystem::current_path(previous);
  CHECK(read_file_bytes(folder.file("relative.bin")) == "in the working directory");
  CHECK(folder.entries() == Names{"relative.bin"});
}

TEST_CASE("atomic write gives the umask's file mode") {
  TemporaryDirectory folder;
  const mode_t previous = ::umask(022);
  write_file_atomically(folder.file("shared.bin"), "x");
  ::umask(077);
  write_file_atomically(folder.file("private.bin"), "x");
  ::umask(previous);

  struct stat status {};
  REQUIRE(::stat(folder.file("shared.bin").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0644);
  REQUIRE(::stat(folder.file("private.bin").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);
}

TEST_CASE("atomic write into a missing directory fails") {
  TemporaryDirectory folder;
  write_file_bytes(folder.file("earlier.bin"), "earlier contents");
  const std::string path = folder.file("missing/weights.bin");

  CHECK_THROWS_AS(write_file_atomically(path, "data"), FileError);
  try {
    write_file_atomically(path, "data");
  } catch (const FileError& error) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.find("write_file_atomically: cannot write '" + path + "'") == 0);
    CHECK(message.find("No such file or directory") != std::string::npos);
    CHECK(message.find("create the directory first") != std::string::npos);
  }
  CHECK(read_file_bytes(folder.file("earlier.bin")) == "earlier contents");
  CHECK(folder.entries() == Names{"earlier.bin"});
}

TEST_CASE("atomic write to a directory path fails") {
  TemporaryDirectory folder;
  std::filesystem::create_directory(folder.file("checkpoints"));
  write_file_bytes(folder.file("earlier.bin"), "earlier contents");

  for (const std::string& path :
       {folder.file("checkpoints"), folder.file("checkpoints/"), folder.path().string()}) {
    CAPTURE(path);
    const std::string expected = "write_file_atomically: cannot write '" + path +
                                 "': it names a directory; pass the path of a file inside it";
    CHECK_THROWS_WITH_AS(write_file_atomically(path, "data"), expected.c_str(), FileError);
  }
  CHECK(std::filesystem::is_directory(folder.file("checkpoints")));
  CHECK(TemporaryDirectory::entries_of(folder.file("checkpoints")).empty());
  CHECK(read_file_bytes(folder.file("earlier.bin")) == "earlier contents");
  CHECK(folder.entries() == Names{"checkpoints", "earlier.bin"});
}

TEST_CASE("atomic write to an empty path fails") {
  CHECK_THROWS_WITH_AS(write_file_atomically("", "data"),
                       "write_file_atomically: the path is empty; pass the path of a file",
                       FileError);
}

TEST_CASE("failed write removes the temporary file") {
  TemporaryDirectory folder;
  const std::string path = folder.file("weights.bin");
  write_file_bytes(path, "earlier contents");
  const std::string too_large(64 * 1024, 'x');

  {
    const FileSizeLimit limit(4096);
    CHECK_THROWS_AS(write_file_atomically(path, too_large), FileError);
    try {
      write_file_atomically(path, too_large);
    } catch (const FileError& error) {
      const std::string message = error.what();
      CAPTURE(message);
      CHECK(message.find("cannot write '" + path + "': write failed: File too large") !=
            std::string::npos);
    }
  }

  CHECK(read_file_bytes(path) == "earlier contents");
  CHECK(folder.entries() == Names{"weights.bin"});
}
