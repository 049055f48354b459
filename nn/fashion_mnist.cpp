#include "nn/fashion_mnist.hpp"

#include <algorithm>
#include <filesystem>

#include "core/error.hpp"
#include "core/idx.hpp"
#include "core/shape.hpp"

namespace tapegrad {
namespace {

// The path of `base_name` in `directory`: the .gz file, or the uncompressed
// one when only that exists. A missing pair gives the .gz path, so read_idx
// reports it with the hint to install the data.
std::string find_file(const std::string& directory, const std::string& base_name) {
  const std::filesystem::path plain = std::filesystem::path(directory) / base_name;
  std::filesystem::path gzip = plain;
  gzip += ".gz";

  std::error_code error;
  if (!std::filesystem::exists(gzip, error) && std::filesystem::exists(plain, error)) {
    return plain.string();
  }
  return gzip.string();
}

Tensor<std::uint8_t> load_images(const std::string& path) {
  Tensor<std::uint8_t> images = read_idx(path);
  if (images.dimension() != 3 || images.shape()[1] != kFashionMnistImageSize ||
      images.shape()[2] != kFashionMnistImageSize) {
    throw FileError("load_fashion_mnist: " + path + ": images must be [N, 28, 28], got " +
                    format_shape(images.shape()) + "; is this a Fashion-MNIST image file?");
  }
  return images;
}

Tensor<std::uint8_t> load_labels(const std::string& path, const std::string& images_path,
                                 std::size_t num_images) {
  Tensor<std::uint8_t> labels = read_idx(path);
  if (labels.dimension() != 1) {
    throw FileError("load_fashion_mnist: " + path + ": labels must be 1-D, got shape " +
                    format_shape(labels.shape()) + "; is this a Fashion-MNIST label file?");
  }
  if (labels.size() != num_images) {
    throw FileError("load_fashion_mnist: " + path + " contains " + std::to_string(labels.size()) +
                    " labels, but " + images_path + " contains " + std::to_string(num_images) +
                    " images; the two files must come from the same release");
  }

  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels(i) >= kFashionMnistNumClasses) {
      throw FileError("load_fashion_mnist: " + path + ": label " + std::to_string(labels(i)) +
                      " at position " + std::to_string(i) +
                      " is out of range; Fashion-MNIST labels are 0 to 9");
    }
  }
  return labels;
}

void check_indices(const std::vector<std::size_t>& indices, std::size_t count,
                   const std::string& what) {
  for (std::size_t position = 0; position < indices.size(); ++position) {
    if (indices[position] >= count) {
      throw ValueError(what + ": index " + std::to_string(indices[position]) + " at position " +
                       std::to_string(position) + " is out of range for " +
                       std::to_string(count) + " samples");
    }
  }
}

// Resizes `tensor` to `shape` unless it has that shape already, which keeps
// its storage.
template <class T>
void resize_if_needed(Tensor<T>& tensor, const std::vector<std::size_t>& shape) {
  if (!std::equal(tensor.shape().begin(), tensor.shape().end(), shape.begin(), shape.end())) {
    tensor.resize(shape);
  }
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& directory) {
  const std::string train_images_path = find_file(directory, "train-images-idx3-ubyte");
  const std::string train_labels_path = find_file(directory, "train-labels-idx1-ubyte");
  const std::string test_images_path = find_file(directory, "t10k-images-idx3-ubyte");
  const std::string test_labels_path = find_file(directory, "t10k-labels-idx1-ubyte");

  FashionMnist data;
  data.train_images = load_images(train_images_path);
  data.train_labels =
      load_labels(train_labels_path, train_images_path, data.train_images.shape()[0]);
  data.test_images = load_images(test_images_path);
  data.test_labels = load_labels(test_labels_path, test_images_path, data.test_images.shape()[0]);
  return data;
}

void gather_images(const Tensor<std::uint8_t>& images, const std::vector<std::size_t>& indices,
                   Tensor<float>& batch) {
  check_rank(images, 3, "gather_images: images");
  check_indices(indices, images.shape()[0], "gather_images");

  const std::size_t pixels = images.shape()[1] * images.shape()[2];
  resize_if_needed(batch, {indices.size(), pixels});

  for (std::size_t row = 0; row < indices.size(); ++row) {
    const std::uint8_t* image = images.data() + indices[row] * pixels;
    float* out = batch.data() + row * pixels;
    // Division maps 255 to exactly 1.0f.
    for (std::size_t i = 0; i < pixels; ++i) out[i] = static_cast<float>(image[i]) / 255.0f;
  }
}

void gather_labels(const Tensor<std::uint8_t>& labels, const std::vector<std::size_t>& indices,
                   Tensor<std::int64_t>& batch_labels) {
  check_rank(labels, 1, "gather_labels: labels");
  check_indices(indices, labels.size(), "gather_labels");

  resize_if_needed(batch_labels, {indices.size()});
  for (std::size_t row = 0; row < indices.size(); ++row) {
    batch_labels(row) = labels(indices[row]);
  }
}

}  // namespace tapegrad
