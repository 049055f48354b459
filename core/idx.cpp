#include "core/idx.hpp"

// Makes z_stream::next_in a pointer to const, so the input needs no cast.
#define ZLIB_CONST
#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/error.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

constexpr std::size_t kMagicBytes = 4;
constexpr std::uint8_t kUnsignedByteType = 0x08;

// One deflate length/distance pair takes at least 2 bits and yields at most
// 258 bytes, so deflate data decompresses to at most 1032 times its size
// (zlib's Technical Details page, https://zlib.net/zlib_tech.html). The gzip
// header and trailer only add input, so the bound covers a whole gzip file.
constexpr std::size_t kMaxDeflateRatio = 1032;

// Output granted to each inflate() call, so the output grows in steps of at
// most this many bytes.
constexpr std::size_t kInflateChunkBytes = std::size_t{1} << 16;

constexpr std::size_t kReadChunkBytes = std::size_t{1} << 20;

// The public function that was called and the input's name, for error messages.
struct Source {
  const char* caller;
  const std::string& name;
};

[[noreturn]] void fail(const Source& source, const std::string& problem) {
  throw FileError(std::string(source.caller) + ": " + source.name + ": " + problem);
}

std::string hex(std::uint64_t value, int digits) {
  std::ostringstream out;
  out << "0x" << std::uppercase << std::hex << std::setw(digits) << std::setfill('0') << value;
  return out.str();
}

// The element type of each IDX type code, or null for an invalid code.
const char* type_name(std::uint8_t type_code) {
  switch (type_code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return nullptr;
  }
}

std::uint32_t read_big_endian_u32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

// Checks the 4-byte magic number and returns the size of the whole header.
std::size_t check_magic(const std::uint8_t* magic, const Source& source) {
  if (magic[0] != 0 || magic[1] != 0) {
    fail(source, "invalid magic number " + hex(read_big_endian_u32(magic), 8) +
                     ": an IDX file starts with two zero bytes; pass an IDX file such as "
                     "train-images-idx3-ubyte.gz");
  }

  const std::uint8_t type_code = magic[2];
  const char* name = type_name(type_code);
  if (name == nullptr) {
    fail(source, "invalid type code " + hex(type_code, 2) +
                     "; IDX type codes are 0x08, 0x09, 0x0B, 0x0C, 0x0D and 0x0E");
  }
  if (type_code != kUnsignedByteType) {
    fail(source, "unsupported type code " + hex(type_code, 2) + " (" + name +
                     "); tapegrad reads only 0x08 (unsigned byte)");
  }

  const std::size_t rank = magic[3];
  if (rank == 0) {
    fail(source, "invalid number of dimensions 0; tapegrad reads IDX files of 1 to " +
                     std::to_string(kIdxMaxRank) + " dimensions");
  }
  if (rank > kIdxMaxRank) {
    fail(source, "unsupported number of dimensions " + std::to_string(rank) +
                     "; tapegrad reads IDX files of 1 to " + std::to_string(kIdxMaxRank) +
                     " dimensions");
  }
  return kMagicBytes + 4 * rank;
}

struct IdxHeader {
  std::vector<std::size_t> shape;
  std::size_t header_bytes;
  std::size_t data_bytes;  // one byte per element
};

// Reads the sizes that follow a magic number that check_magic accepted.
IdxHeader read_sizes(const std::uint8_t* header, std::size_t header_bytes, const Source& source) {
  IdxHeader result{{}, header_bytes, 0};
  for (std::size_t offset = kMagicBytes; offset < header_bytes; offset += 4) {
    result.shape.push_back(read_big_endian_u32(header + offset));
  }

  // A shape whose nonzero sizes overflow is rejected even when another size is
  // 0, because xtensor's strides are products of the trailing sizes (see
  // kMaxTensorElements). The check comes before each multiplication, so the
  // product never wraps around.
  std::size_t product = 1;
  for (const std::size_t size : result.shape) {
    if (size == 0) continue;
    if (product > kMaxTensorElements / size) {
      fail(source, "the sizes " + format_shape(result.shape) +
                       " overflow: the product of the nonzero sizes exceeds " +
                       std::to_string(kMaxTensorElements) +
                       ", the most elements a tensor can index");
    }
    product *= size;
  }
  const bool empty = std::find(result.shape.begin(), result.shape.end(), 0) != result.shape.end();
  result.data_bytes = empty ? 0 : product;
  return result;
}

void check_header_length(std::size_t needed, std::size_t available, const Source& source,
                         const std::string& note) {
  if (available < needed) {
    fail(source, "truncated header: expected " + std::to_string(needed) + " header bytes, got " +
                     std::to_string(available) + note);
  }
}

// Compares the data bytes after the header with the header's sizes. When
// `at_least` is set, `available` is a lower bound of the real count.
void check_data_length(const IdxHeader& header, std::size_t available, bool at_least,
                       const Source& source, const std::string& note) {
  if (available == header.data_bytes) return;
  const std::string problem = available < header.data_bytes ? "truncated data" : "trailing bytes";
  fail(source, problem + ": the sizes " + format_shape(header.shape) + " need " +
                   std::to_string(header.data_bytes) + " data bytes after the " +
                   std::to_string(header.header_bytes) + "-byte header, got " +
                   (at_least ? "at least " : "") + std::to_string(available) + note);
}

Tensor<std::uint8_t> make_tensor(const IdxHeader& header, const std::uint8_t* data) {
  Tensor<std::uint8_t> tensor = Tensor<std::uint8_t>::from_shape(header.shape);
  std::copy_n(data, header.data_bytes, tensor.data());
  return tensor;
}

Tensor<std::uint8_t> parse_plain(const std::uint8_t* bytes, std::size_t size,
                                 const Source& source) {
  check_header_length(kMagicBytes, size, source, "");
  const std::size_t header_bytes = check_magic(bytes, source);
  check_header_length(header_bytes, size, source, "");
  const IdxHeader header = read_sizes(bytes, header_bytes, source);

  // Checked before make_tensor allocates, so a header that claims more than
  // the input contains costs no memory.
  check_data_length(header, size - header_bytes, false, source, "");
  return make_tensor(header, bytes + header_bytes);
}

// Decompresses a gzip stream on demand, one or more concatenated members, into
// an output buffer that grows only as decompressed bytes arrive.
class GzipInflater {
 public:
  GzipInflater(const std::uint8_t* bytes, std::size_t size, const Source& source)
      : next_input_(bytes), remaining_input_(size), source_(source) {
    // 16 + MAX_WBITS: a gzip wrapper only, with the largest window.
    const int status = inflateInit2(&stream_, 16 + MAX_WBITS);
    if (status == Z_MEM_ERROR) throw std::bad_alloc();
    if (status != Z_OK) {
      throw std::runtime_error("inflateInit2 failed with zlib status " + std::to_string(status));
    }
  }
  ~GzipInflater() { inflateEnd(&stream_); }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Decompresses until the output has `count` bytes or the gzip data ends.
  void fill_to(std::size_t count) {
    while (output_.size() < count && !finished_ && !truncated_) inflate_step(count);
  }

  const std::vector<std::uint8_t>& output() const { return output_; }

  // True when the input ended inside a gzip member, before its CRC check.
  bool truncated() const { return truncated_; }

  // A note for length errors, which a truncated stream explains.
  std::string truncation_note() const {
    return truncated_ ? " (the gzip stream ends early, so the file is cut short)" : "";
  }

 private:
  void inflate_step(std::size_t count) {
    // avail_in is 32-bit, so inputs over 4 GiB go in pieces.
    if (stream_.avail_in == 0 && remaining_input_ > 0) {
      const std::size_t piece = std::min<std::size_t>(remaining_input_, UINT_MAX);
      stream_.next_in = next_input_;
      stream_.avail_in = static_cast<uInt>(piece);
      next_input_ += piece;
      remaining_input_ -= piece;
    }

    const std::size_t old_size = output_.size();
    const std::size_t step = std::min(kInflateChunkBytes, count - old_size);
    output_.resize(old_size + step);
    stream_.next_out = output_.data() + old_size;
    stream_.avail_out = static_cast<uInt>(step);
    const int status = inflate(&stream_, Z_NO_FLUSH);
    output_.resize(old_size + step - stream_.avail_out);

    if (status == Z_STREAM_END) {
      // More input after a member's trailer must be another member, as gzip
      // itself accepts; anything else fails in the next inflate() call.
      if (stream_.avail_in > 0 || remaining_input_ > 0) {
        inflateReset(&stream_);
      } else {
        finished_ = true;
      }
      return;
    }
    if (status == Z_MEM_ERROR) throw std::bad_alloc();
    if (status != Z_OK && status != Z_BUF_ERROR) {
      const std::string message = stream_.msg != nullptr ? stream_.msg : "unknown error";
      fail(source_, "corrupt gzip stream after " + std::to_string(output_.size()) +
                        " decompressed bytes: " + message + " (zlib status " +
                        std::to_string(status) + ")");
    }

    // All input is used and inflate() left output space unfilled, so the
    // member never reached its end and the file is cut short.
    if (stream_.avail_out > 0 && stream_.avail_in == 0 && remaining_input_ == 0) {
      truncated_ = true;
    }
  }

  z_stream stream_{};
  const std::uint8_t* next_input_;
  std::size_t remaining_input_;
  const Source& source_;
  std::vector<std::uint8_t> output_;
  bool finished_ = false;
  bool truncated_ = false;
};

Tensor<std::uint8_t> parse_gzip(const std::uint8_t* bytes, std::size_t size,
                                const Source& source) {
  GzipInflater inflater(bytes, size, source);

  // The magic number gives the header size, and the header the data size.
  inflater.fill_to(kMagicBytes);
  check_header_length(kMagicBytes, inflater.output().size(), source, inflater.truncation_note());
  const std::size_t header_bytes = check_magic(inflater.output().data(), source);
  inflater.fill_to(header_bytes);
  check_header_length(header_bytes, inflater.output().size(), source,
                      inflater.truncation_note());
  const IdxHeader header = read_sizes(inflater.output().data(), header_bytes, source);

  // Reject a claim that this input cannot satisfy before decompressing any data.
  if (header.data_bytes > kIdxMaxGzipBytes) {
    fail(source, "the sizes " + format_shape(header.shape) + " need " +
                     std::to_string(header.data_bytes) + " data bytes, more than the " +
                     std::to_string(kIdxMaxGzipBytes) +
                     "-byte (1 GiB) limit for gzip IDX files; decompress the file with gunzip "
                     "and read the plain file");
  }
  const std::size_t max_output = size > std::numeric_limits<std::size_t>::max() / kMaxDeflateRatio
                                     ? std::numeric_limits<std::size_t>::max()
                                     : size * kMaxDeflateRatio;
  // data_bytes is at most 1 GiB here, so the sum cannot overflow.
  if (header_bytes + header.data_bytes > max_output) {
    fail(source, "truncated data: the sizes " + format_shape(header.shape) + " need " +
                     std::to_string(header.data_bytes) + " data bytes, but " +
                     std::to_string(size) + " bytes of gzip data decompress to at most " +
                     std::to_string(max_output) + " bytes (deflate's maximum ratio is 1032:1)");
  }

  // Ask for one byte more than the header needs, to detect trailing bytes
  // without decompressing all of them.
  const std::size_t total_bytes = header_bytes + header.data_bytes;
  inflater.fill_to(total_bytes + 1);
  const std::size_t data_available = inflater.output().size() - header_bytes;
  check_data_length(header, data_available, data_available > header.data_bytes, source,
                    inflater.truncation_note());
  if (inflater.truncated()) {
    fail(source, "truncated gzip stream: the data is complete, but the input ends before the "
                 "gzip trailer, so its CRC cannot be checked");
  }
  return make_tensor(header, inflater.output().data() + header_bytes);
}

Tensor<std::uint8_t> parse_any(const std::uint8_t* bytes, std::size_t size,
                               const Source& source) {
  const bool gzip = size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  return gzip ? parse_gzip(bytes, size, source) : parse_plain(bytes, size, source);
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::error_code status_error;
  if (std::filesystem::is_directory(path, status_error)) {
    throw FileError("read_idx: " + path +
                    " is a directory, not an IDX file; pass the path of an IDX file in it, "
                    "such as train-images-idx3-ubyte.gz");
  }

  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int open_error = errno;
    std::string message = "read_idx: cannot open " + path + ": " + std::strerror(open_error);
    if (open_error == ENOENT) {
      message += "; install the Debian package dataset-fashion-mnist or pass --data DIR";
    }
    throw FileError(message);
  }

  // A regular file is read in one request of its size plus one byte, so a
  // small file costs no megabyte buffer. The extra byte and the later
  // requests catch a file that grew since fstat, and files of unknown size.
  std::size_t request = kReadChunkBytes;
  struct stat status {};
  if (::fstat(::fileno(file.get()), &status) == 0 && S_ISREG(status.st_mode)) {
    request = static_cast<std::size_t>(status.st_size) + 1;
  }
  std::vector<std::uint8_t> contents;
  for (;;) {
    const std::size_t old_size = contents.size();
    contents.resize(old_size + request);
    const std::size_t count = std::fread(contents.data() + old_size, 1, request, file.get());
    contents.resize(old_size + count);
    if (count < request) break;
    request = kReadChunkBytes;
  }
  if (std::ferror(file.get())) {
    throw FileError("read_idx: cannot read " + path + ": " + std::strerror(errno));
  }
  return contents;
}

}  // namespace

Tensor<std::uint8_t> read_idx(const std::string& path) {
  const std::vector<std::uint8_t> contents = read_file(path);
  return parse_any(contents.data(), contents.size(), Source{"read_idx", path});
}

Tensor<std::uint8_t> parse_idx(const std::uint8_t* bytes, std::size_t size,
                               const std::string& source_name) {
  return parse_any(bytes, size, Source{"parse_idx", source_name});
}

}  // namespace tapegrad
