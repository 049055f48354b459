// The IDX reader on small plain and gzip files that the tests write, valid
// and broken in every header field.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A folder of its own under the system's temporary folder, removed at the end.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("tapegrad_test_idx_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// An IDX header with the given type code and sizes, followed by `data`.
Bytes idx_bytes(std::uint8_t type_code, const std::vector<std::uint32_t>& sizes,
                const Bytes& data) {
  Bytes bytes = {0, 0, type_code, static_cast<std::uint8_t>(sizes.size())};
  for (const std::uint32_t size : sizes) {
    bytes.push_back(static_cast<std::uint8_t>(size >> 24));
    bytes.push_back(static_cast<std::uint8_t>(size >> 16));
    bytes.push_back(static_cast<std::uint8_t>(size >> 8));
    bytes.push_back(static_cast<std::uint8_t>(size));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

Bytes counting_bytes(std::size_t count) {
  Bytes data(count);
  for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<std::uint8_t>(i);
  return data;
}

// Bytes that deflate cannot shrink, from a fixed linear congruential sequence.
Bytes noise_bytes(std::size_t count) {
  Bytes data(count);
  std::uint32_t state = 12345;
  for (auto& byte : data) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return data;
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Writes `bytes` as a gzip file with zlib's gzip file interface.
void write_gzip_file(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  if (!bytes.empty()) {
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
  }
  REQUIRE(gzclose(file) == Z_OK);
}

// Compresses `bytes` into one gzip member in memory.
Bytes gzip_bytes(const Bytes& bytes) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                       Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes compressed(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32);
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = compressed.data();
  stream.avail_out = static_cast<uInt>(compressed.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  compressed.resize(stream.total_out);
  deflateEnd(&stream);
  return compressed;
}

Tensor<std::uint8_t> parse(const Bytes& bytes) {
  return parse_idx(bytes.data(), bytes.size(), "test.idx");
}

}  // namespace

TEST_CASE("idx non-square images") {
  TempDir dir;
  const std::string path = dir.file("images-idx3-ubyte");
  write_file(path, idx_bytes(0x08, {3, 2, 5}, counting_bytes(30)));

  const Tensor<std::uint8_t> images = read_idx(path);
  REQUIRE(images.shape() == std::vector<std::size_t>{3, 2, 5});
  CHECK(images(0, 0, 0) == 0);
  CHECK(images(0, 1, 4) == 9);
  CHECK(images(1, 0, 2) == 12);
  CHECK(images(2, 1, 4) == 29);
}

TEST_CASE("idx 1-D labels") {
  const Tensor<std::uint8_t> labels = parse(idx_bytes(0x08, {4}, {9, 0, 3, 7}));
  REQUIRE(labels.shape() == std::vector<std::size_t>{4});
  CHECK(labels(0) == 9);
  CHECK(labels(3) == 7);
}

TEST_CASE("idx big-endian sizes above 255") {
  // 70000 is 0x00011170: three of its four bytes are nonzero.
  const Tensor<std::uint8_t> labels = parse(idx_bytes(0x08, {70000}, counting_bytes(70000)));
  REQUIRE(labels.shape() == std::vector<std::size_t>{70000});
  CHECK(labels(69999) == static_cast<std::uint8_t>(69999));

  const Tensor<std::uint8_t> images = parse(idx_bytes(0x08, {2, 260, 3}, counting_bytes(1560)));
  REQUIRE(images.shape() == std::vector<std::size_t>{2, 260, 3});
  CHECK(images(1, 259, 2) == static_cast<std::uint8_t>(1559));
}

TEST_CASE("idx 4-D and empty tensors") {
  const Tensor<std::uint8_t> four = parse(idx_bytes(0x08, {2, 1, 2, 3}, counting_bytes(12)));
  REQUIRE(four.shape() == std::vector<std::size_t>{2, 1, 2, 3});
  CHECK(four(1, 0, 1, 2) == 11);

  const Tensor<std::uint8_t> empty = parse(idx_bytes(0x08, {0, 28, 28}, {}));
  REQUIRE(empty.shape() == std::vector<std::size_t>{0, 28, 28});
  CHECK(empty.size() == 0);
}

TEST_CASE("idx gzip file") {
  TempDir dir;
  const Bytes contents = idx_bytes(0x08, {3, 2, 5}, counting_bytes(30));
  write_gzip_file(dir.file("images.gz"), contents);
  write_file(dir.file("images"), contents);

  const Tensor<std::uint8_t> from_gzip = read_idx(dir.file("images.gz"));
  CHECK(from_gzip == read_idx(dir.file("images")));
  CHECK(from_gzip(2, 1, 4) == 29);

  // A larger file crosses several inflate() output chunks.
  const Bytes large = idx_bytes(0x08, {300, 28, 28}, noise_bytes(300 * 784));
  write_gzip_file(dir.file("large.gz"), large);
  const Tensor<std::uint8_t> large_images = read_idx(dir.file("large.gz"));
  REQUIRE(large_images.shape() == std::vector<std::size_t>{300, 28, 28});
  CHECK(std::equal(large_images.begin(), large_images.end(), large.begin() + 16));
}

TEST_CASE("idx concatenated gzip members") {
  const Bytes contents = idx_bytes(0x08, {3, 2, 5}, counting_bytes(30));
  const Bytes first(contents.begin(), contents.begin() + 10);
  const Bytes second(contents.begin() + 10, contents.end());
  Bytes joined = gzip_bytes(first);
  const Bytes second_member = gzip_bytes(second);
  joined.insert(joined.end(), second_member.begin(), second_member.end());

  CHECK(parse(joined) == parse(contents));
}

TEST_CASE("idx truncated header") {
  TempDir dir;
  const std::string path = dir.file("short");
  write_file(path, {0, 0, 8});
  std::string expected = "read_idx: " + path + ": truncated header: expected 4 header bytes, got 3";
  CHECK_THROWS_WITH_AS(read_idx(path), expected.c_str(), FileError);

  // Three dimensions need 4 + 3 * 4 = 16 header bytes.
  Bytes three_dims = idx_bytes(0x08, {3, 2, 5}, {});
  three_dims.resize(10);
  write_file(path, three_dims);
  expected = "read_idx: " + path + ": truncated header: expected 16 header bytes, got 10";
  CHECK_THROWS_WITH_AS(read_idx(path), expected.c_str(), FileError);

  CHECK_THROWS_WITH_AS(parse_idx(nullptr, 0, "empty input"),
                       "parse_idx: empty input: truncated header: expected 4 header bytes, got 0",
                       FileError);
}

TEST_CASE("idx truncated data and trailing bytes") {
  TempDir dir;
  const std::string path = dir.file("images");

  write_file(path, idx_bytes(0x08, {3, 2, 5}, counting_bytes(29)));
  std::string expected = "read_idx: " + path +
                         ": truncated data: the sizes [3, 2, 5] need 30 data bytes after the "
                         "16-byte header, got 29";
  CHECK_THROWS_WITH_AS(read_idx(path), expected.c_str(), FileError);

  write_file(path, idx_bytes(0x08, {3, 2, 5}, counting_bytes(31)));
  expected = "read_idx: " + path +
             ": trailing bytes: the sizes [3, 2, 5] need 30 data bytes after the 16-byte "
             "header, got 31";
  CHECK_THROWS_WITH_AS(read_idx(path), expected.c_str(), FileError);
}

TEST_CASE("idx wrong magic number") {
  CHECK_THROWS_WITH_AS(parse({1, 0, 8, 1, 7}),
                       doctest::Contains("parse_idx: test.idx: invalid magic number 0x01000801: "
                                         "an IDX file starts with two zero bytes"),
                       FileError);

  const Bytes png_signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK_THROWS_WITH_AS(parse(png_signature), doctest::Contains("invalid magic number 0x89504E47"),
                       FileError);
}

TEST_CASE("idx unsupported type codes") {
  const std::vector<std::pair<std::uint8_t, std::string>> cases = {
      {0x09, "0x09 (signed byte)"}, {0x0B, "0x0B (short)"},  {0x0C, "0x0C (int)"},
      {0x0D, "0x0D (float)"},       {0x0E, "0x0E (double)"},
  };
  for (const auto& [type_code, described] : cases) {
    CAPTURE(described);
    const std::string expected = "parse_idx: test.idx: unsupported type code " + described +
                                 "; tapegrad reads only 0x08 (unsigned byte)";
    CHECK_THROWS_WITH_AS(parse(idx_bytes(type_code, {2}, {1, 2})), expected.c_str(), FileError);
  }
}

TEST_CASE("idx invalid type codes") {
  for (const std::uint8_t type_code : {0x00, 0x07, 0x0A, 0x0F, 0xFF}) {
    CAPTURE(int{type_code});
    CHECK_THROWS_WITH_AS(parse(idx_bytes(type_code, {2}, {1, 2})),
                         doctest::Contains("invalid type code 0x"), FileError);
  }
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x0A, {2}, {1, 2})),
                       "parse_idx: test.idx: invalid type code 0x0A; IDX type codes are 0x08, "
                       "0x09, 0x0B, 0x0C, 0x0D and 0x0E",
                       FileError);
}

TEST_CASE("idx number of dimensions") {
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {}, {7})),
                       "parse_idx: test.idx: invalid number of dimensions 0; tapegrad reads IDX "
                       "files of 1 to 4 dimensions",
                       FileError);
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {1, 1, 1, 1, 1}, {7})),
                       "parse_idx: test.idx: unsupported number of dimensions 5; tapegrad reads "
                       "IDX files of 1 to 4 dimensions",
                       FileError);
}

TEST_CASE("idx sizes that overflow") {
  const std::uint32_t max = 0xFFFFFFFF;
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {max, max, max}, {1, 2, 3})),
                       "parse_idx: test.idx: the sizes [4294967295, 4294967295, 4294967295] "
                       "overflow: the product of the nonzero sizes exceeds 9223372036854775807, "
                       "the most elements a tensor can index",
                       FileError);

  // A zero size does not hide the overflow of the others.
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {0, max, max, max}, {})),
                       doctest::Contains("overflow"), FileError);

  // About 1.0e19 fits in size_t but not in the signed strides of xtensor,
  // which overflowed (undefined behaviour) for this empty tensor.
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {0, 0xFF030000, 0x01000000, 0x8D}, {})),
                       doctest::Contains("exceeds 9223372036854775807"), FileError);
}

TEST_CASE("idx header claiming more than the input") {
  // (2^32 - 1) * (2^31 - 1) bytes fit in a tensor's strides but not in
  // memory. The check must come before any allocation, which
  // AddressSanitizer would also report.
  CHECK_THROWS_WITH_AS(parse(idx_bytes(0x08, {0xFFFFFFFF, 0x7FFFFFFF}, {1, 2, 3})),
                       "parse_idx: test.idx: truncated data: the sizes [4294967295, 2147483647] "
                       "need 9223372030412324865 data bytes after the 12-byte header, got 3",
                       FileError);
}

TEST_CASE("idx gzip claim beyond its input") {
  TempDir dir;
  const std::string path = dir.file("claims.gz");

  // 784 MB claimed from a file of about 60 bytes: over deflate's 1032:1.
  write_gzip_file(path, idx_bytes(0x08, {1000000, 28, 28}, counting_bytes(10)));
  CHECK_THROWS_WITH_AS(read_idx(path),
                       doctest::Contains("need 784000000 data bytes, but"), FileError);
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("maximum ratio is 1032:1"), FileError);

  // 1.5 GiB claimed: over the fixed limit, whatever the file size.
  write_gzip_file(path, idx_bytes(0x08, {1536, 1024, 1024}, counting_bytes(10)));
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("limit for gzip IDX files"), FileError);

  // Within both bounds, but the stream ends after 300 data bytes.
  write_gzip_file(path, idx_bytes(0x08, {200000}, noise_bytes(300)));
  const std::string expected = "read_idx: " + path +
                               ": truncated data: the sizes [200000] need 200000 data bytes "
                               "after the 8-byte header, got 300";
  CHECK_THROWS_WITH_AS(read_idx(path), expected.c_str(), FileError);
}

TEST_CASE("idx gzip trailing bytes") {
  const Bytes gzip = gzip_bytes(idx_bytes(0x08, {3, 2, 5}, counting_bytes(40)));
  CHECK_THROWS_WITH_AS(parse(gzip),
                       "parse_idx: test.idx: trailing bytes: the sizes [3, 2, 5] need 30 data "
                       "bytes after the 16-byte header, got at least 31",
                       FileError);
}

TEST_CASE("idx corrupt gzip stream") {
  const Bytes good = gzip_bytes(idx_bytes(0x08, {300}, noise_bytes(300)));
  REQUIRE(parse(good).size() == 300);

  // The gzip trailer is the CRC-32 (4 bytes) followed by the data length (4 bytes).
  Bytes bad_crc = good;
  bad_crc[bad_crc.size() - 8] ^= 0xFF;
  CHECK_THROWS_WITH_AS(parse(bad_crc), doctest::Contains("corrupt gzip stream"), FileError);
  CHECK_THROWS_WITH_AS(parse(bad_crc), doctest::Contains("incorrect data check"), FileError);

  // A deflate block header of type 3, which does not exist.
  const Bytes bad_block = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF};
  CHECK_THROWS_WITH_AS(parse(bad_block), doctest::Contains("invalid block type"), FileError);

  // Bytes after the last member that are not another member.
  Bytes garbage_after = good;
  garbage_after.insert(garbage_after.end(), {'j', 'u', 'n', 'k'});
  CHECK_THROWS_WITH_AS(parse(garbage_after), doctest::Contains("corrupt gzip stream"), FileError);
}

TEST_CASE("idx truncated gzip stream") {
  const Bytes good = gzip_bytes(idx_bytes(0x08, {300}, noise_bytes(300)));

  const Bytes half(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  CHECK_THROWS_WITH_AS(parse(half), doctest::Contains("truncated data"), FileError);
  CHECK_THROWS_WITH_AS(parse(half), doctest::Contains("the gzip stream ends early"), FileError);

  // All data present but no trailer: the CRC is never checked.
  const Bytes no_trailer(good.begin(), good.end() - 8);
  CHECK_THROWS_WITH_AS(parse(no_trailer), doctest::Contains("truncated gzip stream"), FileError);

  // Only the gzip header: not even the IDX magic number arrives.
  const Bytes header_only(good.begin(), good.begin() + 10);
  CHECK_THROWS_WITH_AS(parse(header_only),
                       doctest::Contains("truncated header: expected 4 header bytes, got 0"),
                       FileError);
}

TEST_CASE("idx missing file") {
  const std::string path = "/nonexistent-tapegrad-folder/train-images-idx3-ubyte.gz";
  const std::string expected = "read_idx: cannot open " + path +
                               ": No such file or directory; install the Debian package "
                               "dataset-fashion-mnist or pass --data DIR";
  CHECK_THROWS_WITH_AS(read_idx(path), expected.c_str(), FileError);
}

TEST_CASE("idx directory path") {
  TempDir dir;
  const std::string path = dir.file("");
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("is a directory, not an IDX file"),
                       FileError);
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains(path.c_str()), FileError);
}
