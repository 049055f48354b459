// Reading and writing safetensors files: named tensors plus string metadata.
//
// A safetensors file is an 8-byte little-endian header length N, then N bytes
// of JSON that give each tensor's dtype, shape and byte range, then the raw
// little-endian, row-major tensor data. PyTorch, NumPy and JAX read and write
// the format through the safetensors library, so weights move between them
// and tapegrad. tapegrad stores float tensors as F32 and double tensors as F64.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "core/tensor.hpp"

namespace tapegrad {

// A tensor as a safetensors file stores it: Tensor<float> is dtype F32 and
// Tensor<double> is dtype F64.
using StoredTensor = std::variant<Tensor<float>, Tensor<double>>;

// The contents of one safetensors file.
struct SafetensorsContents {
  std::map<std::string, StoredTensor> tensors;
  // The header's optional "__metadata__" object, such as {"format": "pt"}.
  std::map<std::string, std::string> metadata;
};

// Encodes `contents` as the bytes of a safetensors file. The header is padded
// with spaces to a multiple of 8 bytes. F64 tensors come first in the data,
// then F32, each group in name order, as the reference implementation orders
// them, so every tensor starts at a multiple of its element size.
// Throws ValueError for a tensor named "__metadata__" (the key is reserved)
// or a name or metadata string that is not valid UTF-8.
std::string serialize_safetensors(const SafetensorsContents& contents);

// Decodes the bytes of a safetensors file. `source_name` names the bytes in
// error messages. Empty tensors and scalars (shape []) are valid.
// Throws FileError naming the source and the offending value when the header
// is malformed or has duplicate keys, or when a dtype is not F32 or F64. It
// also throws when byte ranges disagree with the shapes, overlap, or leave
// bytes of the data section uncovered, which the format forbids.
SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source_name);

// Writes `contents` to `path` through write_file_atomically(), so a crash
// leaves either the earlier file or the complete new one.
// Throws ValueError as serialize_safetensors() does, and FileError when the
// file cannot be written.
void save_safetensors(const std::string& path, const SafetensorsContents& contents);

// Reads the safetensors file at `path`, with the checks of parse_safetensors().
// Reads the header first and then each tensor straight into its storage, so
// the whole file is never held in memory at once. Throws FileError naming the
// path when the file is missing, unreadable, a directory, or malformed.
SafetensorsContents load_safetensors(const std::string& path);

}  // namespace tapegrad
