#include "nn/safetensors_header.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/shape.hpp"

namespace tapegrad::detail {
namespace {

using json = nlohmann::json;

// NumPy 2 allows at most 64 dimensions (NPY_MAXDIMS in ndarraytypes.h), so a
// header's arrays are limited to 64 elements while it is parsed.
constexpr std::size_t max_rank = 64;

// Dtypes that the safetensors format defines but tapegrad does not read.
constexpr std::array<std::string_view, 18> other_format_dtypes = {
    "BOOL", "U8",   "I8",      "I16",     "U16",     "I32", "U32",     "I64",     "U64",
    "F16",  "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4",  "F6_E2M3", "F6_E3M2", "C64"};

// A JSON value as text for an error message, shortened to about 80 characters.
std::string excerpt(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string quote_name(const std::string& name) { return excerpt(json(name)); }

// Returns the value of a non-negative JSON integer, or nothing for any other value.
std::optional<std::uint64_t> to_count(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

// Sets product = a * b and returns false when that overflows 64 bits.
bool multiply_checked(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) return false;
  product = a * b;
  return true;
}

std::string format_range(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

const json& require_field(const json& entry, const char* field, const std::string& where) {
  const auto found = entry.find(field);
  if (found == entry.end()) {
    throw FileError(where + ": the entry has no \"" + field + "\" field; expected \"dtype\", " +
                    "\"shape\" and \"data_offsets\", got " + excerpt(entry));
  }
  return *found;
}

StoredDtype parse_dtype(const json& value, const std::string& where) {
  if (!value.is_string()) {
    throw FileError(where + ": \"dtype\" must be a string, got " + excerpt(value));
  }
  const std::string name = value.get<std::string>();
  if (name == "F32") return StoredDtype::f32;
  if (name == "F64") return StoredDtype::f64;
  const bool known = std::find(other_format_dtypes.begin(), other_format_dtypes.end(), name) !=
                     other_format_dtypes.end();
  if (known) {
    throw FileError(where + ": unsupported dtype " + quote_name(name) +
                    ": tapegrad reads F32 and F64; convert the tensor to one of them first");
  }
  throw FileError(where + ": unknown dtype " + quote_name(name) +
                  "; safetensors files use names such as F32, F64, F16 and I64");
}

// Reads one tensor entry and checks it on its own. Overlaps and gaps between
// entries are checked afterwards by check_coverage().
SafetensorsEntry parse_entry(const std::string& name, const json& value, std::uint64_t data_size,
                             const std::string& context) {
  const std::string where = context + ": tensor " + quote_name(name);
  if (!value.is_object()) {
    throw FileError(where + ": the entry must be an object with \"dtype\", \"shape\" and " +
                    "\"data_offsets\", got " + excerpt(value));
  }
  // Fields other than these three are ignored, as the reference reader does.
  SafetensorsEntry entry{name, parse_dtype(require_field(value, "dtype", where), where), {}, 0, 0};

  const json& shape = require_field(value, "shape", where);
  if (!shape.is_array()) {
    throw FileError(where + ": \"shape\" must be an array of non-negative integers, got " +
                    excerpt(shape));
  }
  // StructureCheck has already limited the shape to max_rank dimensions.
  assert(shape.size() <= max_rank);
  std::uint64_t element_count = 1;
  std::uint64_t nonzero_product = 1;
  bool overflow = false;
  bool too_many_elements = false;
  for (const json& size : shape) {
    const std::optional<std::uint64_t> dimension = to_count(size);
    if (!dimension) {
      throw FileError(where + ": \"shape\" must contain non-negative integers, got " +
                      excerpt(shape));
    }
    entry.shape.push_back(static_cast<std::size_t>(*dimension));
    overflow = overflow || !multiply_checked(element_count, *dimension, element_count);
    if (*dimension != 0) {
      too_many_elements = too_many_elements ||
                          !multiply_checked(nonzero_product, *dimension, nonzero_product) ||
                          nonzero_product > kMaxTensorElements;
    }
  }
  // As in the reference reader, the running product must not overflow even
  // when a later dimension is 0.
  std::uint64_t byte_count = 0;
  overflow = overflow || !multiply_checked(element_count, dtype_size(entry.dtype), byte_count);
  if (overflow) {
    throw FileError(where + ": shape " + format_shape(entry.shape) +
                    " has more bytes than a 64-bit size can count");
  }
  // A shape such as [0, 2^40, 2^40] passes the check above, because its
  // running product is 0, but xtensor's strides for it overflow (see
  // kMaxTensorElements).
  if (too_many_elements) {
    throw FileError(where + ": shape " + format_shape(entry.shape) +
                    " is too large: the product of its nonzero sizes exceeds " +
                    std::to_string(kMaxTensorElements) + ", the most elements a tensor can index");
  }

  const json& offsets = require_field(value, "data_offsets", where);
  const bool pair = offsets.is_array() && offsets.size() == 2;
  const std::optional<std::uint64_t> begin = pair ? to_count(offsets[0]) : std::nullopt;
  const std::optional<std::uint64_t> end = pair ? to_count(offsets[1]) : std::nullopt;
  if (!begin || !end) {
    throw FileError(where + ": \"data_offsets\" must be [begin, end] with non-negative " +
                    "integers, got " + excerpt(offsets));
  }
  entry.begin = *begin;
  entry.end = *end;
  if (entry.begin > entry.end) {
    throw FileError(where + ": data_offsets " + format_range(entry.begin, entry.end) +
                    " are out of order: begin exceeds end");
  }
  if (entry.end > data_size) {
    throw FileError(where + ": data_offsets " + format_range(entry.begin, entry.end) +
                    " run past the end of the data section, which is " + std::to_string(data_size) +
                    " bytes");
  }
  if (entry.end - entry.begin != byte_count) {
    throw FileError(where + ": data_offsets " + format_range(entry.begin, entry.end) + " span " +
                    std::to_string(entry.end - entry.begin) + " bytes, but shape " +
                    format_shape(entry.shape) + " of " + dtype_name(entry.dtype) + " needs " +
                    std::to_string(byte_count));
  }
  return entry;
}

// Moves the metadata strings out of `value`, so that they are not held twice.
std::map<std::string, std::string> parse_metadata(json& value, const std::string& context) {
  if (!value.is_object()) {
    throw FileError(context + ": \"__metadata__\" must be an object of strings, got " +
                    excerpt(value));
  }
  std::map<std::string, std::string> metadata;
  for (auto& [key, text] : value.items()) {
    if (!text.is_string()) {
      throw FileError(context + ": metadata " + quote_name(key) + " must be a string, got " +
                      excerpt(text));
    }
    metadata.emplace(key, std::move(text.get_ref<std::string&>()));
  }
  return metadata;
}

// Sorts the entries by offset and checks that they tile the data section.
// The format forbids bytes that belong to no tensor, so that a file cannot
// carry hidden content (a polyglot file). The reference reader enforces it too.
void check_coverage(std::vector<SafetensorsEntry>& tensors, std::uint64_t data_size,
                    const std::string& context) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& left, const auto& right) {
    return std::tie(left.begin, left.end, left.name) < std::tie(right.begin, right.end, right.name);
  });
  const auto gap_error = [&](std::uint64_t gap_begin, std::uint64_t gap_end) {
    return FileError(context + ": bytes [" + std::to_string(gap_begin) + ", " +
                     std::to_string(gap_end) + ") of the " + std::to_string(data_size) +
                     "-byte data section belong to no tensor; the format allows no gaps");
  };

  std::uint64_t covered_end = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& entry : tensors) {
    if (entry.begin < covered_end) {
      // covered_end > 0, so an earlier entry set it.
      throw FileError(context + ": tensors " + quote_name(previous->name) + " (data_offsets " +
                      format_range(previous->begin, previous->end) + ") and " +
                      quote_name(entry.name) + " (data_offsets " +
                      format_range(entry.begin, entry.end) +
                      ") overlap; each byte must belong to one tensor");
    }
    if (entry.begin > covered_end) throw gap_error(covered_end, entry.begin);
    covered_end = entry.end;
    previous = &entry;
  }
  if (covered_end < data_size) throw gap_error(covered_end, data_size);
}

// A SAX handler that checks the header's JSON for problems that json::parse
// would accept silently or turn into a large document, and stops at the first:
// - invalid JSON;
// - duplicate keys, which the format disallows but nlohmann::json would keep,
//   the last one winning;
// - nesting deeper than a valid header's three levels (the header, a tensor
//   entry or the metadata, a shape or data_offsets array);
// - arrays longer than a shape can be.
// The last two keep a hostile header from building a large tree in memory.
class StructureCheck final : public json::json_sax_t {
 public:
  // The reason for rejecting the header, or empty while it is valid.
  std::string error;

  bool null() override { return add_value(); }
  bool boolean(bool) override { return add_value(); }
  bool number_integer(number_integer_t) override { return add_value(); }
  bool number_unsigned(number_unsigned_t) override { return add_value(); }
  bool number_float(number_float_t, const string_t&) override { return add_value(); }
  bool string(string_t&) override { return add_value(); }
  bool binary(binary_t&) override { return add_value(); }

  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& key) override {
    if (open_.back().keys.insert(key).second) return true;
    error =
        "the header has the key " + quote_name(key) + " twice; the format disallows duplicate keys";
    return false;
  }

  bool parse_error(std::size_t, const std::string&, const json::exception& exception) override {
    error = std::string("the header is not valid JSON: ") + exception.what();
    return false;
  }

 private:
  struct Container {
    bool is_array;
    std::size_t element_count = 0;
    std::set<std::string> keys;  // the keys seen so far, for an object
  };

  bool add_value() {
    if (open_.empty() || !open_.back().is_array) return true;
    if (++open_.back().element_count <= max_rank) return true;
    error = "the header has an array of more than " + std::to_string(max_rank) +
            " elements; a valid header has only shapes of at most " + std::to_string(max_rank) +
            " dimensions and data_offsets pairs";
    return false;
  }

  bool open(bool is_array) {
    if (!add_value()) return false;
    if (open_.size() == 3) {
      error =
          "the header nests arrays or objects more than 3 levels deep; a valid header has "
          "the header object, tensor entries and their shape and data_offsets arrays";
      return false;
    }
    open_.push_back(Container{is_array, 0, {}});
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  std::vector<Container> open_;
};

}  // namespace

const char* dtype_name(StoredDtype dtype) { return dtype == StoredDtype::f32 ? "F32" : "F64"; }

std::size_t dtype_size(StoredDtype dtype) { return dtype == StoredDtype::f32 ? 4 : 8; }

void check_length_field_present(std::uint64_t file_size, const std::string& context) {
  if (file_size < safetensors_length_field_bytes) {
    throw FileError(context + ": the file is " + std::to_string(file_size) +
                    " bytes, too short for the 8-byte header length; it is not a " +
                    "safetensors file or it was cut off");
  }
}

std::uint64_t decode_header_length(const unsigned char* length_field, std::uint64_t file_size,
                                   const std::string& context) {
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_field[i];

  if (header_length > safetensors_max_header_bytes) {
    throw FileError(context + ": the header length " + std::to_string(header_length) +
                    " exceeds the limit of " + std::to_string(safetensors_max_header_bytes) +
                    " bytes; the file is corrupt or not a safetensors file");
  }
  if (safetensors_length_field_bytes + header_length > file_size) {
    throw FileError(context + ": the header length " + std::to_string(header_length) +
                    " runs past the end of the " + std::to_string(file_size) +
                    "-byte file; the file was cut off or is not a safetensors file");
  }
  return header_length;
}

SafetensorsHeader parse_safetensors_header(std::string_view text, std::uint64_t data_size,
                                           const std::string& context) {
  // The format requires the header to start with '{'. The end may be padded
  // with spaces, which the JSON parser skips.
  if (text.empty() || text.front() != '{') {
    const std::string start =
        text.empty() ? "it is empty" : "it starts with " + excerpt(json(std::string(1, text[0])));
    throw FileError(context + ": the header must be a JSON object starting with '{', but " + start);
  }

  // A first pass checks what json::parse would accept silently; only then is
  // the header parsed into a document.
  {
    // Scoped, so that the keys it collects are freed before the document is built.
    StructureCheck check;
    if (!json::sax_parse(text.begin(), text.end(), &check)) {
      throw FileError(context + ": " + check.error);
    }
  }
  json document = json::parse(text.begin(), text.end());

  SafetensorsHeader header;
  for (auto& [name, value] : document.items()) {
    if (name == "__metadata__") {
      header.metadata = parse_metadata(value, context);
    } else {
      header.tensors.push_back(parse_entry(name, value, data_size, context));
    }
  }
  check_coverage(header.tensors, data_size, context);
  return header;
}

}  // namespace tapegrad::detail
