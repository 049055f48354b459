// safetensors reading and writing: bit-exact round trips, a file built by
// hand from the format description, the header tapegrad writes, and every
// malformed header the reader must reject.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "temporary_directory.hpp"

using namespace tapegrad;

namespace {

using Names = std::vector<std::string>;

// Bit patterns that a conversion could change: NaNs with payloads (quiet and
// signalling), infinities, denormals, -0.0 and the extremes.
const std::vector<std::uint32_t> float_patterns = {0x7fc00000, 0x7fc00123, 0x7f800001, 0xffc00000,
                                                   0x7f800000, 0xff800000, 0x00000001, 0x807fffff,
                                                   0x80000000, 0x00000000, 0x7f7fffff, 0x00800000};
const std::vector<std::uint64_t> double_patterns = {
    0x7ff8000000000000, 0x7ff8000000000abc, 0x7ff0000000000001, 0xfff8000000000000,
    0x7ff0000000000000, 0xfff0000000000000, 0x0000000000000001, 0x800fffffffffffff,
    0x8000000000000000, 0x0000000000000000, 0x7fefffffffffffff, 0x0010000000000000};

// A tensor of random values whose first elements are the given bit patterns.
template <class T, class Bits>
Tensor<T> tensor_with_patterns(const std::vector<std::size_t>& shape,
                               const std::vector<Bits>& patterns, std::uint64_t seed) {
  Generator generator(seed);
  Tensor<T> tensor = generator.uniform_tensor<T>(shape, T(-10), T(10));
  REQUIRE(tensor.size() >= patterns.size());
  std::memcpy(tensor.data(), patterns.data(), patterns.size() * sizeof(Bits));
  return tensor;
}

// Checks that `stored` contains a Tensor<T> with the shape and exact bytes of `expected`.
template <class T>
void check_same_bits(const StoredTensor& stored, const Tensor<T>& expected) {
  REQUIRE(std::holds_alternative<Tensor<T>>(stored));
  const Tensor<T>& actual = std::get<Tensor<T>>(stored);
  REQUIRE(format_shape(actual.shape()) == format_shape(expected.shape()));
  if (expected.size() > 0) {
    CHECK(std::memcmp(actual.data(), expected.data(), expected.size() * sizeof(T)) == 0);
  }
}

// The little-endian bytes of `value`, written out one byte at a time.
std::string little_endian_u64(std::uint64_t value) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return bytes;
}

// A safetensors file: the header length, the header text, then `data`.
std::string file_bytes(const std::string& header, const std::string& data = "") {
  return little_endian_u64(header.size()) + header + data;
}

// Checks that parse_safetensors rejects `bytes` with a FileError whose
// message names the source and contains `expected`.
void check_rejected(const std::string& bytes, const std::string& expected) {
  CAPTURE(expected);
  CHECK_THROWS_AS(parse_safetensors(bytes, "case.safetensors"), FileError);
  try {
    parse_safetensors(bytes, "case.safetensors");
  } catch (const FileError& error) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.rfind("parse_safetensors: 'case.safetensors': ", 0) == 0);
    CHECK(message.find(expected) != std::string::npos);
  }
}

SafetensorsContents sample_contents() {
  SafetensorsContents contents;
  contents.tensors["layer.weight"] = tensor_with_patterns<float>({3, 5}, float_patterns, 1);
  contents.tensors["layer.bias"] = tensor_with_patterns<float>({13}, float_patterns, 2);
  contents.tensors["precise"] = tensor_with_patterns<double>({2, 2, 4}, double_patterns, 3);
  contents.tensors["step"] = Tensor<double>(41.5);
  contents.tensors["scale"] = Tensor<float>(-0.0f);
  contents.tensors["empty"] = Tensor<float>::from_shape({0, 3});
  contents.tensors["empty_double"] = Tensor<double>::from_shape({4, 0});
  contents.metadata = {
      {"format", "pt"}, {"step", "1200"}, {"note", "h\xc3\xa9llo \"quoted\"\n"}, {"", "empty key"}};
  return contents;
}

void check_same_contents(const SafetensorsContents& actual, const SafetensorsContents& expected) {
  REQUIRE(actual.tensors.size() == expected.tensors.size());
  for (const auto& [name, tensor] : expected.tensors) {
    CAPTURE(name);
    REQUIRE(actual.tensors.count(name) == 1);
    if (std::holds_alternative<Tensor<float>>(tensor)) {
      check_same_bits(actual.tensors.at(name), std::get<Tensor<float>>(tensor));
    } else {
      check_same_bits(actual.tensors.at(name), std::get<Tensor<double>>(tensor));
    }
  }
  CHECK(actual.metadata == expected.metadata);
}

}  // namespace

TEST_CASE("safetensors round trip in memory") {
  const SafetensorsContents contents = sample_contents();
  const std::string bytes = serialize_safetensors(contents);
  check_same_contents(parse_safetensors(bytes, "memory"), contents);
}

TEST_CASE("safetensors round trip through a file") {
  TemporaryDirectory folder;
  const SafetensorsContents contents = sample_contents();
  save_safetensors(folder.file("model.safetensors"), contents);
  check_same_contents(load_safetensors(folder.file("model.safetensors")), contents);
  CHECK(folder.entries() == Names{"model.safetensors"});
}

TEST_CASE("safetensors round trip of nothing") {
  const std::string bytes = serialize_safetensors({});
  // "{}" padded with six spaces to 8 bytes.
  CHECK(bytes == little_endian_u64(8) + "{}      ");
  const SafetensorsContents contents = parse_safetensors(bytes, "memory");
  CHECK(contents.tensors.empty());
  CHECK(contents.metadata.empty());
}

TEST_CASE("safetensors file from the format description loads") {
  // Written by hand: two tensors out of name order in the data, metadata
  // last, and no padding, which the format allows.
  const std::string header = R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                             R"("bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},)"
                             R"("__metadata__":{"format":"pt"}})";
  const unsigned char data[] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,   // 1.0f, 2.0f
                                0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x40, 0x40,   // -0.5f, 3.0f
                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f,   // 1.5
                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0};  // -2.0
  std::string bytes;
  const std::uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data), sizeof(data));

  TemporaryDirectory folder;
  write_file_bytes(folder.file("by_hand.safetensors"), bytes);
  for (const SafetensorsContents& contents :
       {load_safetensors(folder.file("by_hand.safetensors")), parse_safetensors(bytes, "memory")}) {
    REQUIRE(contents.tensors.size() == 2);
    const auto& weight = std::get<Tensor<float>>(contents.tensors.at("weight"));
    REQUIRE(format_shape(weight.shape()) == "[2, 2]");
    CHECK(weight(0, 0) == 1.0f);
    CHECK(weight(0, 1) == 2.0f);
    CHECK(weight(1, 0) == -0.5f);
    CHECK(weight(1, 1) == 3.0f);
    const auto& bias = std::get<Tensor<double>>(contents.tensors.at("bias"));
    REQUIRE(format_shape(bias.shape()) == "[2]");
    CHECK(bias(0) == 1.5);
    CHECK(bias(1) == -2.0);
    CHECK(contents.metadata == std::map<std::string, std::string>{{"format", "pt"}});
  }
}

TEST_CASE("safetensors writes the expected header") {
  TemporaryDirectory folder;
  SafetensorsContents contents;
  contents.tensors["b.weight"] = tensor_with_patterns<float>({3, 4}, float_patterns, 4);
  contents.tensors["a.bias"] = Tensor<float>{1.0f, 2.0f, 3.0f};
  contents.tensors["z.double"] = Tensor<double>{0.25, -8.0};
  contents.metadata = {{"format", "pt"}};
  save_safetensors(folder.file("model.safetensors"), contents);

  const std::string bytes = read_file_bytes(folder.file("model.safetensors"));
  REQUIRE(bytes.size() >= 8);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) {
    header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
  }
  CHECK(header_length % 8 == 0);
  REQUIRE(bytes.size() == 8 + header_length + 16 + 12 + 48);

  const std::string header_text = bytes.substr(8, header_length);
  CHECK(header_text.front() == '{');
  CHECK(header_text.find_last_not_of(' ') == header_text.rfind('}'));
  const nlohmann::json header = nlohmann::json::parse(header_text);
  CHECK(header.size() == 4);
  CHECK(header["__metadata__"] == nlohmann::json{{"format", "pt"}});

  // F64 first so that it starts at a multiple of 8, then F32 in name order.
  CHECK(header["z.double"]["dtype"] == "F64");
  CHECK(header["z.double"]["shape"] == nlohmann::json::array({2}));
  CHECK(header["z.double"]["data_offsets"] == nlohmann::json::array({0, 16}));
  CHECK(header["a.bias"]["dtype"] == "F32");
  CHECK(header["a.bias"]["shape"] == nlohmann::json::array({3}));
  CHECK(header["a.bias"]["data_offsets"] == nlohmann::json::array({16, 28}));
  CHECK(header["b.weight"]["dtype"] == "F32");
  CHECK(header["b.weight"]["shape"] == nlohmann::json::array({3, 4}));
  CHECK(header["b.weight"]["data_offsets"] == nlohmann::json::array({28, 76}));

  const char* data = bytes.data() + 8 + header_length;
  const auto& weight = std::get<Tensor<float>>(contents.tensors["b.weight"]);
  CHECK(std::memcmp(data + 28, weight.data(), 48) == 0);
  const double first_double = std::bit_cast<double>(std::uint64_t{0x3fd0000000000000});  // 0.25
  CHECK(std::memcmp(data, &first_double, 8) == 0);
}

TEST_CASE("safetensors single tensor matches the reference layout") {
  // The reference writer puts dtype, shape and data_offsets in this order
  // and pads nothing when the header is already a multiple of 8 bytes.
  SafetensorsContents contents;
  contents.tensors["attn.0"] = Tensor<float>{{{0.0f, 1.0f, 2.0f}, {3.0f, 4.0f, 5.0f}}};
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  REQUIRE(header.size() == 64);
  std::string data;
  for (float value : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f}) {
    data.append(reinterpret_cast<const char*>(&value), 4);
  }
  CHECK(serialize_safetensors(contents) == file_bytes(header, data));
}

TEST_CASE("safetensors accepts valid edge cases") {
  SUBCASE("padding, an empty tensor between others, a scalar and an unknown field") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("empty":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},)"
        R"("scalar":{"dtype":"F32","shape":[],"data_offsets":[8,12],"extra":"ignored"}}    )";
    const std::string data(12, '\0');
    const SafetensorsContents contents = parse_safetensors(file_bytes(header, data), "memory");
    REQUIRE(contents.tensors.size() == 3);
    CHECK(format_shape(std::get<Tensor<float>>(contents.tensors.at("empty")).shape()) == "[0, 3]");
    const auto& scalar = std::get<Tensor<float>>(contents.tensors.at("scalar"));
    CHECK(scalar.dimension() == 0);
    CHECK(scalar.size() == 1);
  }
  SUBCASE("only metadata") {
    const SafetensorsContents contents =
        parse_safetensors(file_bytes(R"({"__metadata__":{}})"), "memory");
    CHECK(contents.tensors.empty());
    CHECK(contents.metadata.empty());
  }
}

TEST_CASE("safetensors rejects malformed files") {
  const std::string f32_2x2 = R"({"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
  const std::string sixteen_bytes(16, '\0');

  SUBCASE("file and header length") {
    check_rejected(std::string(5, '\0'), "the file is 5 bytes, too short for the 8-byte header");
    check_rejected("", "the file is 0 bytes");
    check_rejected(little_endian_u64(100) + std::string(20, ' '),
                   "the header length 100 runs past the end of the 28-byte file");
    check_rejected(little_endian_u64(200'000'000) + "{}",
                   "the header length 200000000 exceeds the limit of 100000000 bytes");
    check_rejected(little_endian_u64(UINT64_MAX) + "{}", "exceeds the limit");
  }
  SUBCASE("header text") {
    check_rejected(file_bytes(R"({"a": )"),
                   "the header is not valid JSON: [json.exception.parse_error");
    check_rejected(file_bytes(R"({"a":{}} trailing)"), "the header is not valid JSON");
    check_rejected(file_bytes("[1, 2]"),
                   "must be a JSON object starting with '{', but it starts with \"[\"");
    check_rejected(file_bytes(" {}"), "but it starts with \" \"");
    check_rejected(file_bytes(""), "but it is empty");
    check_rejected(file_bytes("{\"\xff\": 1}"), "the header is not valid JSON");
    check_rejected(file_bytes(R"({"a":)" + f32_2x2 + R"(,"a":)" + f32_2x2 + "}", sixteen_bytes),
                   "the header has the key \"a\" twice");
    check_rejected(file_bytes(R"({"__metadata__":{"k":"1","k":"2"}})"),
                   "the header has the key \"k\" twice");
    check_rejected(
        file_bytes(R"({"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}})", "abcd"),
        "the header nests arrays or objects more than 3 levels deep");
    const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
    check_rejected(file_bytes(R"({"w":)" + deep + "}"), "more than 3 levels deep");
  }
  SUBCASE("entry fields") {
    check_rejected(file_bytes(R"({"w":3})"), "tensor \"w\": the entry must be an object");
    check_rejected(file_bytes(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd"),
                   "tensor \"w\": the entry has no \"dtype\" field");
    check_rejected(file_bytes(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "abcd"),
                   "tensor \"w\": the entry has no \"shape\" field");
    check_rejected(file_bytes(R"({"w":{"dtype":"F32","shape":[1]}})", "abcd"),
                   "tensor \"w\": the entry has no \"data_offsets\" field");
    check_rejected(file_bytes(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", "abcd"),
                   "\"dtype\" must be a string, got 4");
  }
  SUBCASE("dtypes") {
    check_rejected(file_bytes(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", "abcd"),
                   "tensor \"w\": unknown dtype \"Q7\"");
    check_rejected(file_bytes(R"({"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", "abcd"),
                   "unknown dtype \"f32\"");
    for (const std::string dtype : {"F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "C64"}) {
      CAPTURE(dtype);
      check_rejected(
          file_bytes(R"({"w":{"dtype":")" + dtype + R"(","shape":[1],"data_offsets":[0,4]}})",
                     "abcd"),
          "tensor \"w\": unsupported dtype \"" + dtype + "\": tapegrad reads F32 and F64");
    }
  }
  SUBCASE("shapes") {
    const auto with_shape = [](const std::string& shape) {
      return file_bytes(R"({"w":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,4]}})",
                        "abcd");
    };
    check_rejected(with_shape("4"), "\"shape\" must be an array of non-negative integers, got 4");
    check_rejected(with_shape("[2,-1]"),
                   "\"shape\" must contain non-negative integers, got [2,-1]");
    check_rejected(with_shape("[2.5]"), "got [2.5]");
    check_rejected(with_shape("[1.0]"), "got [1.0]");
    check_rejected(with_shape(R"(["1"])"), "got [\"1\"]");
    check_rejected(with_shape("[18446744073709551616]"), "non-negative integers");
    check_rejected(with_shape("[4294967296,4294967296]"),
                   "shape [4294967296, 4294967296] has more bytes than a 64-bit size can count");
    check_rejected(with_shape("[4611686018427387904]"), "has more bytes than a 64-bit size");
    check_rejected(with_shape("[4294967296,4294967296,0]"), "has more bytes than a 64-bit size");
    check_rejected(with_shape("[0,4294967296,4294967296]"),
                   "shape [0, 4294967296, 4294967296] is too large: the product of its nonzero "
                   "sizes exceeds 9223372036854775807");
    std::string deep = "[1";
    for (int i = 0; i < 64; ++i) deep += ",1";
    check_rejected(with_shape(deep + "]"), "the header has an array of more than 64 elements");
    check_rejected(file_bytes(R"({"w":)" + std::string(10'000, '[') + "}"),
                   "the header nests arrays or objects more than 3 levels deep");
  }
  SUBCASE("data offsets") {
    const auto with_offsets = [](const std::string& offsets, std::size_t data_size) {
      return file_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":)" + offsets + "}}",
                        std::string(data_size, '\0'));
    };
    check_rejected(with_offsets("[0]", 16),
                   "\"data_offsets\" must be [begin, end] with non-negative integers, got [0]");
    check_rejected(with_offsets("[0,16,32]", 16), "got [0,16,32]");
    check_rejected(with_offsets("[-1,15]", 16), "got [-1,15]");
    check_rejected(with_offsets(R"({"begin":0})", 16), "got {\"begin\":0}");
    check_rejected(with_offsets("[16,0]", 16),
                   "data_offsets [16, 0] are out of order: begin exceeds end");
    check_rejected(with_offsets("[0,16]", 8),
                   "data_offsets [0, 16] run past the end of the data section, which is 8 bytes");
    check_rejected(with_offsets("[0,12]", 12),
                   "data_offsets [0, 12] span 12 bytes, but shape [2, 2] of F32 needs 16");
    check_rejected(
        file_bytes(R"({"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}})", sixteen_bytes),
        "shape [2, 2] of F64 needs 32");
  }
  SUBCASE("overlaps and gaps") {
    const auto entry = [](const std::string& begin, const std::string& end) {
      return R"({"dtype":"F32","shape":[2,2],"data_offsets":[)" + begin + "," + end + "]}";
    };
    check_rejected(file_bytes(R"({"a":)" + entry("0", "16") + R"(,"b":)" + entry("8", "24") + "}",
                              std::string(24, '\0')),
                   "tensors \"a\" (data_offsets [0, 16]) and \"b\" (data_offsets [8, 24]) overlap");
    check_rejected(file_bytes(R"({"a":)" + entry("0", "16") + R"(,"b":)" + entry("0", "16") + "}",
                              sixteen_bytes),
                   "overlap");
    check_rejected(file_bytes(R"({"a":)" + entry("0", "16") + R"(,"b":)" + entry("20", "36") + "}",
                              std::string(36, '\0')),
                   "bytes [16, 20) of the 36-byte data section belong to no tensor");
    check_rejected(file_bytes(R"({"a":)" + entry("4", "20") + "}", std::string(20, '\0')),
                   "bytes [0, 4) of the 20-byte data section belong to no tensor");
    check_rejected(file_bytes(R"({"a":)" + entry("0", "16") + "}", std::string(19, '\0')),
                   "bytes [16, 19) of the 19-byte data section belong to no tensor");
    check_rejected(file_bytes("{}", "abc"), "bytes [0, 3) of the 3-byte data section");
  }
  SUBCASE("metadata") {
    check_rejected(file_bytes(R"({"__metadata__":"pt"})"),
                   "\"__metadata__\" must be an object of strings, got \"pt\"");
    check_rejected(file_bytes(R"({"__metadata__":{"step":3}})"),
                   "metadata \"step\" must be a string, got 3");
    check_rejected(file_bytes(R"({"__metadata__":{"nested":{"a":"b"}}})"),
                   "metadata \"nested\" must be a string, got {\"a\":\"b\"}");
  }
}

TEST_CASE("safetensors load rejects bad paths") {
  TemporaryDirectory folder;

  const std::string missing = folder.file("missing.safetensors");
  CHECK_THROWS_WITH_AS(
      load_safetensors(missing),
      ("load_safetensors: '" + missing + "': cannot open the file: No such file or directory")
          .c_str(),
      FileError);

  const std::string directory = folder.path().string();
  const std::string directory_message = "load_safetensors: '" + directory +
                                        "': it is a directory; pass the path of a safetensors file";
  CHECK_THROWS_WITH_AS(load_safetensors(directory), directory_message.c_str(), FileError);

  // A FIFO must be rejected, not waited on for a writer.
  const std::string fifo = folder.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string fifo_message =
      "load_safetensors: '" + fifo +
      "': it is not a regular file; pass the path of a safetensors file";
  CHECK_THROWS_WITH_AS(load_safetensors(fifo), fifo_message.c_str(), FileError);

  const std::string tiny = folder.file("tiny.safetensors");
  write_file_bytes(tiny, "abc");
  CHECK_THROWS_WITH_AS(load_safetensors(tiny),
                       doctest::Contains("tiny.safetensors': the file is 3 bytes, too short"),
                       FileError);
}

TEST_CASE("safetensors load rejects a cut-off file") {
  TemporaryDirectory folder;
  const std::string path = folder.file("model.safetensors");
  save_safetensors(path, sample_contents());
  const std::string bytes = read_file_bytes(path);

  write_file_bytes(path, bytes.substr(0, bytes.size() - 1));
  CHECK_THROWS_WITH_AS(load_safetensors(path),
                       doctest::Contains("run past the end of the data section"), FileError);
  write_file_bytes(path, bytes.substr(0, 40));
  CHECK_THROWS_WITH_AS(load_safetensors(path),
                       doctest::Contains("runs past the end of the 40-byte file"), FileError);
}

TEST_CASE("safetensors save rejects invalid names") {
  SafetensorsContents reserved;
  reserved.tensors["__metadata__"] = Tensor<float>{1.0f};
  CHECK_THROWS_WITH_AS(serialize_safetensors(reserved),
                       doctest::Contains("a tensor is named \"__metadata__\""), ValueError);

  SafetensorsContents bad_name;
  bad_name.tensors["w\xff"] = Tensor<float>{1.0f};
  CHECK_THROWS_WITH_AS(serialize_safetensors(bad_name),
                       doctest::Contains("tensor name \"w\xef\xbf\xbd\" is not valid UTF-8"),
                       ValueError);

  SafetensorsContents bad_metadata;
  bad_metadata.metadata["note"] = "\xc3";
  CHECK_THROWS_WITH_AS(serialize_safetensors(bad_metadata),
                       doctest::Contains("metadata value \"\xef\xbf\xbd\" of key \"note\" is "
                                         "not valid UTF-8"),
                       ValueError);
}

TEST_CASE("safetensors save fails cleanly") {
  TemporaryDirectory folder;
  const std::string earlier = folder.file("earlier.safetensors");
  save_safetensors(earlier, sample_contents());
  const std::string earlier_bytes = read_file_bytes(earlier);
  std::filesystem::create_directory(folder.file("checkpoints"));

  const std::string missing = folder.file("missing/model.safetensors");
  CHECK_THROWS_WITH_AS(save_safetensors(missing, sample_contents()),
                       doctest::Contains(("cannot write '" + missing + "'").c_str()), FileError);
  CHECK_THROWS_WITH_AS(save_safetensors(missing, sample_contents()),
                       doctest::Contains("No such file or directory"), FileError);

  const std::string directory = folder.file("checkpoints");
  CHECK_THROWS_WITH_AS(save_safetensors(directory, sample_contents()),
                       doctest::Contains(("'" + directory + "': it names a directory").c_str()),
                       FileError);

  CHECK(read_file_bytes(earlier) == earlier_bytes);
  CHECK(folder.entries() == Names{"checkpoints", "earlier.safetensors"});
  CHECK(TemporaryDirectory::entries_of(directory).empty());
}

TEST_CASE("safetensors save replaces an existing file") {
  TemporaryDirectory folder;
  const std::string path = folder.file("model.safetensors");
  save_safetensors(path, sample_contents());

  SafetensorsContents replacement;
  replacement.tensors["only"] = Tensor<double>{{1.0, 2.0}};
  replacement.metadata["epoch"] = "2";
  save_safetensors(path, replacement);

  check_same_contents(load_safetensors(path), replacement);
  CHECK(folder.entries() == Names{"model.safetensors"});
}
