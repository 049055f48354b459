// BatchLoader, gather_images and gather_labels, and the Fashion-MNIST loader
// on the installed data set and on small folders that the tests write.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

using Indices = std::vector<std::size_t>;

// All batches of one epoch, in order.
std::vector<Indices> run_epoch(BatchLoader& loader) {
  std::vector<Indices> batches;
  loader.start_epoch();
  Indices indices;
  while (loader.next_batch(indices)) batches.push_back(indices);
  return batches;
}

Indices flatten(const std::vector<Indices>& batches) {
  Indices all;
  for (const Indices& batch : batches) all.insert(all.end(), batch.begin(), batch.end());
  return all;
}

Indices iota_indices(std::size_t count) {
  Indices indices(count);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  return indices;
}

// A folder of its own under the system's temporary folder, removed at the end.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("tapegrad_test_data_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// An IDX file of unsigned bytes with the given sizes, followed by `data`.
std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& sizes,
                                    const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> bytes = {0, 0, 0x08, static_cast<std::uint8_t>(sizes.size())};
  for (const std::uint32_t size : sizes) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<std::uint8_t>(size >> shift));
    }
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_gzip_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::vector<std::uint8_t> images_file(std::uint32_t count) {
  return idx_bytes({count, 28, 28}, std::vector<std::uint8_t>(count * 784, 200));
}

std::vector<std::uint8_t> labels_file(const std::vector<std::uint8_t>& labels) {
  return idx_bytes({static_cast<std::uint32_t>(labels.size())}, labels);
}

// A small valid data set: 3 training and 2 test samples, test files plain.
void write_small_dataset(const TempDir& dir) {
  write_gzip_file(dir.file("train-images-idx3-ubyte.gz"), images_file(3));
  write_gzip_file(dir.file("train-labels-idx1-ubyte.gz"), labels_file({9, 0, 4}));
  write_file(dir.file("t10k-images-idx3-ubyte"), images_file(2));
  write_file(dir.file("t10k-labels-idx1-ubyte"), labels_file({1, 2}));
}

}  // namespace

TEST_CASE("batch loader covers every sample once") {
  for (const bool shuffle : {false, true}) {
    CAPTURE(shuffle);
    BatchLoader loader(10, 3, shuffle, 1);
    CHECK(loader.batches_per_epoch() == 4);

    const std::vector<Indices> batches = run_epoch(loader);
    REQUIRE(batches.size() == 4);
    CHECK(batches[0].size() == 3);
    CHECK(batches[2].size() == 3);
    CHECK(batches[3].size() == 1);  // the partial last batch is kept

    Indices all = flatten(batches);
    if (!shuffle) CHECK(all == iota_indices(10));
    std::sort(all.begin(), all.end());
    CHECK(all == iota_indices(10));
  }
}

TEST_CASE("batch loader exact and oversized batches") {
  BatchLoader exact(12, 4, true, 3);
  CHECK(exact.batches_per_epoch() == 3);
  CHECK(run_epoch(exact).size() == 3);

  BatchLoader oversized(5, 8, false, 3);
  CHECK(oversized.batches_per_epoch() == 1);
  const std::vector<Indices> batches = run_epoch(oversized);
  REQUIRE(batches.size() == 1);
  CHECK(batches[0] == iota_indices(5));
}

TEST_CASE("batch loader same seed same epochs") {
  BatchLoader first(100, 32, true, 42);
  BatchLoader second(100, 32, true, 42);
  for (int epoch = 0; epoch < 3; ++epoch) {
    CAPTURE(epoch);
    CHECK(run_epoch(first) == run_epoch(second));
  }

  BatchLoader other_seed(100, 32, true, 43);
  BatchLoader reference(100, 32, true, 42);
  CHECK(run_epoch(other_seed) != run_epoch(reference));
}

TEST_CASE("batch loader reshuffles each epoch") {
  BatchLoader loader(100, 32, true, 42);
  const Indices first_epoch = flatten(run_epoch(loader));
  const Indices second_epoch = flatten(run_epoch(loader));
  CHECK(first_epoch != second_epoch);
  CHECK(first_epoch != iota_indices(100));

  BatchLoader in_order(100, 32, false, 42);
  CHECK(flatten(run_epoch(in_order)) == flatten(run_epoch(in_order)));
}

TEST_CASE("batch loader generator state resumes epochs") {
  BatchLoader original(50, 8, true, 7);
  run_epoch(original);
  const std::string saved = original.generator().state();
  const std::vector<Indices> next_epoch = run_epoch(original);

  BatchLoader resumed(50, 8, true, 0);
  resumed.generator().set_state(saved);
  CHECK(run_epoch(resumed) == next_epoch);
}

TEST_CASE("batch loader restarts an unfinished epoch") {
  BatchLoader loader(10, 4, false, 0);
  Indices indices;
  loader.start_epoch();
  REQUIRE(loader.next_batch(indices));
  REQUIRE(loader.next_batch(indices));
  CHECK(indices == Indices{4, 5, 6, 7});

  loader.start_epoch();
  REQUIRE(loader.next_batch(indices));
  CHECK(indices == Indices{0, 1, 2, 3});
}

TEST_CASE("batch loader with no samples") {
  BatchLoader loader(0, 4, true, 0);
  CHECK(loader.batches_per_epoch() == 0);
  Indices indices = {99};
  loader.start_epoch();
  CHECK_FALSE(loader.next_batch(indices));
  CHECK(indices.empty());
}

TEST_CASE("batch loader rejects misuse") {
  CHECK_THROWS_WITH_AS(BatchLoader(10, 0, true, 1),
                       "BatchLoader: batch_size must be at least 1, got 0", ValueError);

  BatchLoader loader(10, 2, true, 1);
  Indices indices;
  CHECK_THROWS_WITH_AS(loader.next_batch(indices),
                       "BatchLoader::next_batch: no epoch was started; call start_epoch() first",
                       ValueError);
}

TEST_CASE("gather_images scales pixels to [0, 1]") {
  // Three 2x2 images. Image 1 contains 255, 0, 51 and 128.
  const Tensor<std::uint8_t> images = {{{1, 2}, {3, 4}}, {{255, 0}, {51, 128}}, {{5, 6}, {7, 8}}};
  Tensor<float> batch;
  gather_images(images, {1, 2}, batch);

  REQUIRE(batch.shape() == std::vector<std::size_t>{2, 4});
  CHECK(batch(0, 0) == 1.0f);
  CHECK(batch(0, 1) == 0.0f);
  CHECK(batch(0, 2) == doctest::Approx(0.2));  // 51 / 255
  CHECK(batch(0, 3) == 128.0f / 255.0f);
  CHECK(batch(1, 3) == 8.0f / 255.0f);
}

TEST_CASE("gather_images reuses the batch") {
  const Tensor<std::uint8_t> images = xt::zeros<std::uint8_t>({10, 28, 28});
  Tensor<float> batch;
  gather_images(images, {0, 1, 2}, batch);
  const float* storage = batch.data();

  gather_images(images, {7, 8, 9}, batch);
  CHECK(batch.data() == storage);

  gather_images(images, {4}, batch);
  CHECK(batch.shape() == std::vector<std::size_t>{1, 784});
}

TEST_CASE("gather_labels widens to int64") {
  const Tensor<std::uint8_t> labels = {3, 9, 0, 7};
  Tensor<std::int64_t> batch_labels;
  gather_labels(labels, {1, 3, 1}, batch_labels);
  const Tensor<std::int64_t> expected = {9, 7, 9};
  CHECK(batch_labels == expected);

  const std::int64_t* storage = batch_labels.data();
  gather_labels(labels, {0, 2, 2}, batch_labels);
  CHECK(batch_labels.data() == storage);
}

TEST_CASE("gather rejects bad indices and ranks") {
  const Tensor<std::uint8_t> images = xt::zeros<std::uint8_t>({3, 2, 2});
  const Tensor<std::uint8_t> labels = {1, 2, 3};
  Tensor<float> batch;
  Tensor<std::int64_t> batch_labels;

  CHECK_THROWS_WITH_AS(gather_images(images, {0, 3}, batch),
                       "gather_images: index 3 at position 1 is out of range for 3 samples",
                       ValueError);
  CHECK_THROWS_WITH_AS(gather_labels(labels, {5}, batch_labels),
                       "gather_labels: index 5 at position 0 is out of range for 3 samples",
                       ValueError);
  CHECK_THROWS_WITH_AS(gather_images(labels, {0}, batch),
                       "gather_images: images must be 3-D, but its shape is [3]", ShapeError);
  CHECK_THROWS_WITH_AS(gather_labels(images, {0}, batch_labels),
                       "gather_labels: labels must be 1-D, but its shape is [3, 2, 2]", ShapeError);
}

TEST_CASE("fashion mnist class names") {
  REQUIRE(kFashionMnistClassNames.size() == 10);
  CHECK(kFashionMnistClassNames[0] == "T-shirt/top");
  CHECK(kFashionMnistClassNames[5] == "Sandal");
  CHECK(kFashionMnistClassNames[9] == "Ankle boot");
}

TEST_CASE("fashion mnist installed data set") {
  const std::filesystem::path directory = kFashionMnistDefaultDirectory;
  if (!std::filesystem::exists(directory / "train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: Fashion-MNIST is not installed in ", kFashionMnistDefaultDirectory,
            " (Debian package dataset-fashion-mnist)");
    return;
  }

  const FashionMnist data = load_fashion_mnist();
  CHECK(data.train_images.shape() == std::vector<std::size_t>{60000, 28, 28});
  CHECK(data.train_labels.shape() == std::vector<std::size_t>{60000});
  CHECK(data.test_images.shape() == std::vector<std::size_t>{10000, 28, 28});
  CHECK(data.test_labels.shape() == std::vector<std::size_t>{10000});

  // Values read with Python's gzip module: the first labels, and row 3 of
  // the first training image (an ankle boot), whose column 16 is 73.
  CHECK(data.train_labels(0) == 9);
  CHECK(data.train_labels(3) == 3);
  CHECK(data.test_labels(1) == 2);
  CHECK(data.train_images(0, 3, 16) == 73);

  // Each class has 6000 training and 1000 test images.
  std::array<std::size_t, 10> train_counts{};
  for (const std::uint8_t label : data.train_labels) ++train_counts[label];
  std::array<std::size_t, 10> test_counts{};
  for (const std::uint8_t label : data.test_labels) ++test_counts[label];
  for (std::size_t label = 0; label < 10; ++label) {
    CAPTURE(label);
    CHECK(train_counts[label] == 6000);
    CHECK(test_counts[label] == 1000);
  }

  Tensor<float> batch;
  gather_images(data.train_images, {0}, batch);
  CHECK(batch(0, 3 * 28 + 16) == 73.0f / 255.0f);
}

TEST_CASE("fashion mnist small folder") {
  TempDir dir;
  write_small_dataset(dir);

  const FashionMnist data = load_fashion_mnist(dir.path().string());
  CHECK(data.train_images.shape() == std::vector<std::size_t>{3, 28, 28});
  CHECK(data.test_images.shape() == std::vector<std::size_t>{2, 28, 28});
  const Tensor<std::uint8_t> expected_labels = {9, 0, 4};
  CHECK(data.train_labels == expected_labels);
  CHECK(data.test_labels(1) == 2);
}

TEST_CASE("fashion mnist label count mismatch") {
  TempDir dir;
  write_small_dataset(dir);
  write_gzip_file(dir.file("train-labels-idx1-ubyte.gz"), labels_file({9, 0}));

  const std::string expected = "load_fashion_mnist: " + dir.file("train-labels-idx1-ubyte.gz") +
                               " contains 2 labels, but " + dir.file("train-images-idx3-ubyte.gz") +
                               " contains 3 images; the two files must come from the same release";
  CHECK_THROWS_WITH_AS(load_fashion_mnist(dir.path().string()), expected.c_str(), FileError);
}

TEST_CASE("fashion mnist invalid files") {
  TempDir dir;
  const std::string folder = dir.path().string();

  SUBCASE("label out of range") {
    write_small_dataset(dir);
    write_file(dir.file("t10k-labels-idx1-ubyte"), labels_file({1, 10}));
    const std::string expected = "load_fashion_mnist: " + dir.file("t10k-labels-idx1-ubyte") +
                                 ": label 10 at position 1 is out of range; Fashion-MNIST labels "
                                 "are 0 to 9";
    CHECK_THROWS_WITH_AS(load_fashion_mnist(folder), expected.c_str(), FileError);
  }

  SUBCASE("images not 28x28") {
    write_small_dataset(dir);
    write_file(dir.file("t10k-images-idx3-ubyte"),
               idx_bytes({2, 28, 27}, std::vector<std::uint8_t>(2 * 28 * 27)));
    CHECK_THROWS_WITH_AS(load_fashion_mnist(folder),
                         doctest::Contains("images must be [N, 28, 28], got [2, 28, 27]"),
                         FileError);
  }

  SUBCASE("labels not 1-D") {
    write_small_dataset(dir);
    write_file(dir.file("t10k-labels-idx1-ubyte"), idx_bytes({2, 1}, {1, 2}));
    CHECK_THROWS_WITH_AS(load_fashion_mnist(folder),
                         doctest::Contains("labels must be 1-D, got shape [2, 1]"), FileError);
  }

  SUBCASE("missing file") {
    const std::string expected = "read_idx: cannot open " +
                                 dir.file("train-images-idx3-ubyte.gz") +
                                 ": No such file or directory; install the Debian package "
                                 "dataset-fashion-mnist or pass --data DIR";
    CHECK_THROWS_WITH_AS(load_fashion_mnist(folder), expected.c_str(), FileError);
  }
}
