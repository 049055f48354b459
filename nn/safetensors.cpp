#include "nn/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "nn/safetensors_header.hpp"

namespace tapegrad {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and tapegrad copies it without byte "
              "swapping, so it builds only for little-endian hosts");

namespace {

using json = nlohmann::json;
using detail::SafetensorsEntry;
using detail::SafetensorsHeader;
using detail::StoredDtype;

StoredDtype dtype_of(const StoredTensor& tensor) {
  return std::holds_alternative<Tensor<float>>(tensor) ? StoredDtype::f32 : StoredDtype::f64;
}

std::vector<std::size_t> shape_of(const StoredTensor& tensor) {
  return std::visit(
      [](const auto& values) {
        return std::vector<std::size_t>(values.shape().begin(), values.shape().end());
      },
      tensor);
}

// The tensor's elements as raw bytes. xt::xarray stores them contiguously in
// row-major order, which is the layout the format requires.
std::string_view bytes_of(const StoredTensor& tensor) {
  return std::visit(
      [](const auto& values) {
        return std::string_view(reinterpret_cast<const char*>(values.data()),
                                values.size() * sizeof(values.data()[0]));
      },
      tensor);
}

// The tensor's storage, for filling it with bytes read from a file.
char* storage_of(StoredTensor& tensor) {
  return std::visit([](auto& values) { return reinterpret_cast<char*>(values.data()); }, tensor);
}

// Throws ValueError unless `text` is valid UTF-8, which JSON requires. The
// message shows `text` with U+FFFD for each invalid byte, after
// `description` and before `context`, such as ' of key "note"'.
void check_utf8(const std::string& text, const std::string& description,
                const std::string& context = "") {
  try {
    static_cast<void>(json(text).dump());
  } catch (const json::type_error&) {
    throw ValueError("serialize_safetensors: " + description + " " +
                     json(text).dump(-1, ' ', false, json::error_handler_t::replace) + context +
                     " is not valid UTF-8, which the JSON header requires");
  }
}

// Builds each tensor of `header`, filling its bytes with
// read_bytes(entry, destination), and returns the contents.
template <class ReadBytes>
SafetensorsContents build_contents(SafetensorsHeader header, ReadBytes read_bytes) {
  SafetensorsContents contents;
  contents.metadata = std::move(header.metadata);
  for (const SafetensorsEntry& entry : header.tensors) {
    // The validated header guarantees that the ranges do not overlap and lie
    // inside the data, so these allocations add up to at most the file size.
    StoredTensor tensor;
    if (entry.dtype == StoredDtype::f32) {
      tensor = Tensor<float>::from_shape(entry.shape);
    } else {
      tensor = Tensor<double>::from_shape(entry.shape);
    }
    if (entry.end > entry.begin) read_bytes(entry, storage_of(tensor));
    contents.tensors.emplace(entry.name, std::move(tensor));
  }
  return contents;
}

// Owns a file descriptor and closes it on every exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads exactly `count` bytes at `offset`, retrying short reads and EINTR.
void read_exactly(int fd, std::uint64_t offset, char* destination, std::uint64_t count,
                  const std::string& context) {
  while (count > 0) {
    const ssize_t bytes_read = ::pread(fd, destination, count, static_cast<off_t>(offset));
    if (bytes_read < 0) {
      if (errno == EINTR) continue;
      throw FileError(context + ": read failed: " + std::generic_category().message(errno));
    }
    if (bytes_read == 0) {
      throw FileError(context + ": the file ended at byte " + std::to_string(offset) +
                      ", before the data its header describes; it changed while being read");
    }
    destination += bytes_read;
    offset += static_cast<std::uint64_t>(bytes_read);
    count -= static_cast<std::uint64_t>(bytes_read);
  }
}

}  // namespace

std::string serialize_safetensors(const SafetensorsContents& contents) {
  for (const auto& [key, value] : contents.metadata) {
    check_utf8(key, "metadata key");
    check_utf8(value, "metadata value", " of key " + json(key).dump());
  }

  // F64 tensors go before F32 ones, in name order within each dtype. The
  // header is padded to a multiple of 8 bytes, so every tensor then starts
  // aligned to its element size.
  std::vector<std::pair<const std::string*, const StoredTensor*>> order;
  for (const auto& [name, tensor] : contents.tensors) {
    if (name == "__metadata__") {
      throw ValueError(
          "serialize_safetensors: a tensor is named \"__metadata__\", a key the format "
          "reserves for metadata; rename the tensor");
    }
    check_utf8(name, "tensor name");
    order.emplace_back(&name, &tensor);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& left, const auto& right) {
    return detail::dtype_size(dtype_of(*left.second)) > detail::dtype_size(dtype_of(*right.second));
  });

  // ordered_json keeps insertion order, so the header lists "__metadata__"
  // first, then the tensors in data order, each with dtype, shape and
  // data_offsets in that order, as the reference implementation writes them.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!contents.metadata.empty()) header["__metadata__"] = contents.metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : order) {
    const std::uint64_t size = bytes_of(*tensor).size();
    header[*name] = {{"dtype", detail::dtype_name(dtype_of(*tensor))},
                     {"shape", shape_of(*tensor)},
                     {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string file;
  file.reserve(detail::safetensors_length_field_bytes + header_text.size() + offset);
  const std::uint64_t header_length = header_text.size();
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>((header_length >> (8 * i)) & 0xff));
  file += header_text;
  for (const auto& [name, tensor] : order) {
    // An empty tensor's data() may be null, which append() must not see.
    if (!bytes_of(*tensor).empty()) file += bytes_of(*tensor);
  }
  return file;
}

SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source_name) {
  const std::string context = "parse_safetensors: '" + source_name + "'";
  detail::check_length_field_present(bytes.size(), context);
  const std::uint64_t header_length = detail::decode_header_length(
      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), context);

  const std::string_view header_text = bytes.substr(8, header_length);
  const std::string_view data = bytes.substr(8 + header_length);
  SafetensorsHeader header = detail::parse_safetensors_header(header_text, data.size(), context);
  return build_contents(std::move(header), [&](const SafetensorsEntry& entry, char* destination) {
    std::memcpy(destination, data.data() + entry.begin, entry.end - entry.begin);
  });
}

void save_safetensors(const std::string& path, const SafetensorsContents& contents) {
  write_file_atomically(path, serialize_safetensors(contents));
}

SafetensorsContents load_safetensors(const std::string& path) {
  const std::string context = "load_safetensors: '" + path + "'";
  // O_NONBLOCK keeps open() from waiting for a writer when `path` is a FIFO,
  // which fstat() then rejects. It changes nothing for regular files.
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.get() < 0) {
    throw FileError(context + ": cannot open the file: " + std::generic_category().message(errno));
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    throw FileError(context + ": fstat failed: " + std::generic_category().message(errno));
  }
  if (S_ISDIR(status.st_mode)) {
    throw FileError(context + ": it is a directory; pass the path of a safetensors file");
  }
  if (!S_ISREG(status.st_mode)) {
    throw FileError(context + ": it is not a regular file; pass the path of a safetensors file");
  }

  const auto file_size = static_cast<std::uint64_t>(status.st_size);
  detail::check_length_field_present(file_size, context);
  unsigned char length_field[8];
  read_exactly(file.get(), 0, reinterpret_cast<char*>(length_field), 8, context);
  const std::uint64_t header_length =
      detail::decode_header_length(length_field, file_size, context);

  std::string header_text(header_length, '\0');
  read_exactly(file.get(), 8, header_text.data(), header_length, context);
  const std::uint64_t data_start = 8 + header_length;
  SafetensorsHeader header =
      detail::parse_safetensors_header(header_text, file_size - data_start, context);
  return build_contents(std::move(header), [&](const SafetensorsEntry& entry, char* destination) {
    read_exactly(file.get(), data_start + entry.begin, destination, entry.end - entry.begin,
                 context);
  });
}

}  // namespace tapegrad
