// libFuzzer target for the IDX reader.
//
// For any input bytes, parse_idx must return a tensor or throw FileError:
// no crash, no sanitizer report, no other exception, and no allocation beyond
// libFuzzer's -rss_limit_mb. It also checks three properties:
// - read_idx on a file with the same bytes gives the same result or the same
//   error message;
// - an accepted input has 1 to 4 dimensions;
// - the tensor written back as a plain IDX file parses to the same tensor.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/idx.hpp"
#include "fuzz/fuzz_support.hpp"

using tapegrad::FileError;
using tapegrad::Tensor;
using tapegrad::fuzz::require;

namespace {

struct Outcome {
  std::optional<Tensor<std::uint8_t>> tensor;
  std::string error;  // the FileError's message without the function name
};

template <class Read>
Outcome run_reader(Read read) {
  Outcome outcome;
  try {
    outcome.tensor = read();
  } catch (const FileError& error) {
    outcome.error = tapegrad::fuzz::without_function_name(error.what());
  }
  return outcome;
}

// The plain IDX encoding of `tensor`: magic number, big-endian sizes, data.
std::vector<std::uint8_t> encode_plain(const Tensor<std::uint8_t>& tensor) {
  std::vector<std::uint8_t> bytes = {0, 0, 0x08, static_cast<std::uint8_t>(tensor.dimension())};
  for (const std::size_t size : tensor.shape()) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<std::uint8_t>(size >> shift));
    }
  }
  bytes.insert(bytes.end(), tensor.data(), tensor.data() + tensor.size());
  return bytes;
}

bool same_tensor(const Tensor<std::uint8_t>& a, const Tensor<std::uint8_t>& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.size(), b.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tapegrad::fuzz::InputFile file;
  file.write(data, size);

  // Both readers name the input by the file's path, so that their messages
  // differ only in the function name.
  const Outcome parsed = run_reader([&] { return tapegrad::parse_idx(data, size, file.path()); });
  const Outcome read = run_reader([&] { return tapegrad::read_idx(file.path()); });

  require(parsed.tensor.has_value() == read.tensor.has_value(),
          "parse_idx and read_idx disagree on whether the input is valid");
  if (!parsed.tensor) {
    require(parsed.error == read.error, "parse_idx and read_idx report different errors");
    return 0;
  }
  require(same_tensor(*parsed.tensor, *read.tensor),
          "parse_idx and read_idx return different tensors");

  const Tensor<std::uint8_t>& tensor = *parsed.tensor;
  require(tensor.dimension() >= 1 && tensor.dimension() <= tapegrad::kIdxMaxRank,
          "an accepted IDX file has a number of dimensions outside 1 to 4");

  const std::vector<std::uint8_t> plain = encode_plain(tensor);
  const Tensor<std::uint8_t> reparsed =
      tapegrad::parse_idx(plain.data(), plain.size(), "re-encoded");
  require(same_tensor(tensor, reparsed), "a re-encoded IDX file parses to a different tensor");
  return 0;
}
