// A reader for IDX files, the format of MNIST and Fashion-MNIST, plain or
// gzip-compressed.
//
// An IDX file is a 4-byte magic number (two zero bytes, a type code and the
// number of dimensions), one big-endian uint32 size per dimension, then the
// elements in row-major order. tapegrad reads type code 0x08 (unsigned byte)
// with 1 to 4 dimensions, which covers the MNIST-like data sets.
//
// Every header field is validated, and every error is a FileError that names
// the source and the offending value. A header never decides how much memory
// is allocated on its own: plain data must already be in the input, and gzip
// output grows only as decompressed bytes arrive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tensor.hpp"

namespace tapegrad {

// Largest number of dimensions that tapegrad reads.
inline constexpr std::size_t kIdxMaxRank = 4;

// Largest decompressed size, header included, accepted from a gzip IDX file.
// Fashion-MNIST's largest file is 47 MB decompressed. The limit keeps a
// corrupt or hostile file of a few MB (deflate expands at most 1032:1) from
// taking gigabytes of memory. Plain files have no such limit because their
// data is already in memory.
inline constexpr std::size_t kIdxMaxGzipBytes = std::size_t{1} << 30;  // 1 GiB

// Reads the IDX file at `path`, gzip-compressed (detected by its first two
// bytes, 0x1f 0x8b) or plain. Returns a tensor whose shape is the header's
// sizes. Throws FileError when the file cannot be read or is not a valid
// IDX file of unsigned bytes.
Tensor<std::uint8_t> read_idx(const std::string& path);

// Parses the `size` bytes at `bytes` as the contents of an IDX file, plain or
// gzip-compressed, with the same checks as read_idx. `source_name` names the
// input in error messages. `bytes` may be null when `size` is 0.
Tensor<std::uint8_t> parse_idx(const std::uint8_t* bytes, std::size_t size,
                               const std::string& source_name);

}  // namespace tapegrad
