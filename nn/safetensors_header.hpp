// Validation of a safetensors file's header: the length field and the JSON
// that describes each tensor. Internal to nn/safetensors.cpp, so it is not
// installed; callers use nn/safetensors.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tapegrad::detail {

// Size of the little-endian header length at the start of every file.
inline constexpr std::uint64_t safetensors_length_field_bytes = 8;

// Largest header that a reader accepts. The reference implementation
// (huggingface/safetensors, MAX_HEADER_SIZE) rejects headers above 100 MB, so
// that a file cannot make a reader parse an unbounded amount of JSON.
// NOTE: parsing a header into a JSON document takes up to about 25 times its
// size in memory. That was measured with nlohmann-json 3.11.2 on a 20 MB
// header of short metadata entries, so a header near this limit can need 2.5 GB.
inline constexpr std::uint64_t safetensors_max_header_bytes = 100'000'000;

// The element types that tapegrad reads and writes.
enum class StoredDtype { f32, f64 };

// The header's name for `dtype` ("F32" or "F64") and its element size.
const char* dtype_name(StoredDtype dtype);
std::size_t dtype_size(StoredDtype dtype);

// One tensor as the header describes it. `begin` and `end` are byte offsets
// into the data section: the tensor's bytes are [begin, end).
struct SafetensorsEntry {
  std::string name;
  StoredDtype dtype;
  std::vector<std::size_t> shape;
  std::uint64_t begin;
  std::uint64_t end;
};

// A validated header. The entries are in data order, so together they cover
// the data section from 0 to its end without gaps or overlaps.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;
  std::map<std::string, std::string> metadata;
};

// Decodes the header length from the first 8 bytes of a file of `file_size`
// bytes and checks it against the file size and the 100 MB limit. Throws
// FileError that starts with `context` (the function and the source name).
// REQUIRES: file_size >= 8; check_length_field_present() checks that.
std::uint64_t decode_header_length(const unsigned char* length_field, std::uint64_t file_size,
                                   const std::string& context);

// Throws FileError unless a file of `file_size` bytes contains the length field.
void check_length_field_present(std::uint64_t file_size, const std::string& context);

// Parses and validates the JSON header for a data section of `data_size`
// bytes. It checks the JSON structure (duplicate keys, at most 3 levels of
// nesting, arrays of at most 64 elements), every field's JSON type, the
// dtypes, shapes and metadata, and the byte ranges. The ranges must be in
// order, inside the data section and match shape and dtype, and together they
// must cover the data section without overlaps or gaps. Throws FileError
// naming the tensor and the offending value.
SafetensorsHeader parse_safetensors_header(std::string_view text, std::uint64_t data_size,
                                           const std::string& context);

}  // namespace tapegrad::detail
