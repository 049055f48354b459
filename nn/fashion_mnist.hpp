// The Fashion-MNIST data set: 28x28 grayscale images of clothing in 10
// classes, 60000 for training and 10000 for testing, read from the four IDX
// files of its distribution.
//
// Images stay uint8 in memory (47 MB for the training set, a quarter of the
// float size). gather_images converts only the images of one mini-batch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"

namespace tapegrad {

// Where Debian's dataset-fashion-mnist package installs the files.
inline constexpr const char* kFashionMnistDefaultDirectory = "/usr/share/datasets/fashion-mnist";

inline constexpr std::size_t kFashionMnistImageSize = 28;  // rows, and also columns
inline constexpr std::size_t kFashionMnistNumClasses = 10;

// Class names by label: label 0 is "T-shirt/top", label 9 is "Ankle boot".
inline constexpr std::array<std::string_view, kFashionMnistNumClasses> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

struct FashionMnist {
  Tensor<std::uint8_t> train_images;  // [60000, 28, 28], pixel values 0 to 255
  Tensor<std::uint8_t> train_labels;  // [60000], class labels 0 to 9
  Tensor<std::uint8_t> test_images;   // [10000, 28, 28]
  Tensor<std::uint8_t> test_labels;   // [10000]
};

// Loads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte from `directory`, each as a .gz file or, when
// the .gz file is absent, uncompressed. Throws FileError, naming the file and
// the value, when a file is missing or invalid, when images are not
// [N, 28, 28] or labels not [N] with the images' N, or when a label is not
// below 10.
FashionMnist load_fashion_mnist(const std::string& directory = kFashionMnistDefaultDirectory);

// Writes the images at `indices` into `batch` as rows of floats in [0, 1]
// (pixel / 255): images [N, rows, cols] give batch [indices.size(), rows * cols].
// `batch` is resized only when its shape differs, so a training loop that
// reuses it does not allocate every step. Throws ValueError for an index not
// below N and ShapeError when `images` is not 3-D.
void gather_images(const Tensor<std::uint8_t>& images, const std::vector<std::size_t>& indices,
                   Tensor<float>& batch);

// Writes the labels at `indices` into `batch_labels`, shape [indices.size()],
// resizing it only when its shape differs. Throws ValueError for an index not
// below N and ShapeError when `labels` is not 1-D.
void gather_labels(const Tensor<std::uint8_t>& labels, const std::vector<std::size_t>& indices,
                   Tensor<std::int64_t>& batch_labels);

}  // namespace tapegrad
