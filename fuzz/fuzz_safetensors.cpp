// libFuzzer target for the safetensors reader.
//
// For any input bytes, parse_safetensors must return the contents or throw
// FileError: no crash, no sanitizer report, no other exception, and no
// allocation beyond libFuzzer's -rss_limit_mb. It also checks two properties:
// - load_safetensors on a file with the same bytes gives the same contents or
//   the same error message;
// - accepted contents, serialized again, parse to the same contents.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/error.hpp"
#include "fuzz/fuzz_support.hpp"
#include "nn/safetensors.hpp"

using tapegrad::FileError;
using tapegrad::SafetensorsContents;
using tapegrad::StoredTensor;
using tapegrad::fuzz::require;

namespace {

struct Outcome {
  std::optional<SafetensorsContents> contents;
  std::string error;  // the FileError's message without the function name
};

template <class Read>
Outcome run_reader(Read read) {
  Outcome outcome;
  try {
    outcome.contents = read();
  } catch (const FileError& error) {
    outcome.error = tapegrad::fuzz::without_function_name(error.what());
  }
  return outcome;
}

// Compares dtype, shape and bytes, so that NaN payloads count too.
bool same_tensor(const StoredTensor& a, const StoredTensor& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& left) {
        const auto& right = std::get<std::decay_t<decltype(left)>>(b);
        if (left.shape() != right.shape()) return false;
        return left.size() == 0 ||
               std::memcmp(left.data(), right.data(), left.size() * sizeof(left.data()[0])) == 0;
      },
      a);
}

bool same_contents(const SafetensorsContents& a, const SafetensorsContents& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (const auto& [name, tensor] : a.tensors) {
    const auto found = b.tensors.find(name);
    if (found == b.tensors.end() || !same_tensor(tensor, found->second)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tapegrad::fuzz::InputFile file;
  file.write(data, size);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Both readers name the input by the file's path, so that their messages
  // differ only in the function name.
  const Outcome parsed =
      run_reader([&] { return tapegrad::parse_safetensors(bytes, file.path()); });
  const Outcome loaded = run_reader([&] { return tapegrad::load_safetensors(file.path()); });

  require(parsed.contents.has_value() == loaded.contents.has_value(),
          "parse_safetensors and load_safetensors disagree on whether the input is valid");
  if (!parsed.contents) {
    require(parsed.error == loaded.error,
            "parse_safetensors and load_safetensors report different errors");
    return 0;
  }
  require(same_contents(*parsed.contents, *loaded.contents),
          "parse_safetensors and load_safetensors return different contents");

  // The parser accepts names and metadata only as valid UTF-8 JSON strings,
  // and no tensor named "__metadata__", so serializing them should not
  // throw. libFuzzer would report an exception here as a crash.
  const std::string serialized = tapegrad::serialize_safetensors(*parsed.contents);
  const SafetensorsContents reparsed = tapegrad::parse_safetensors(serialized, "re-serialized");
  require(same_contents(*parsed.contents, reparsed),
          "re-serialized contents parse to different contents");
  return 0;
}
