// Trains a multilayer perceptron on Fashion-MNIST and reports its accuracy.
//
// Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28x28
// grey pixels, in 10 classes. The network flattens each image to 784 values
// and applies Linear -> ReLU -> ... -> Linear, ending in 10 logits; sparse
// softmax cross-entropy compares them with the labels.
//
//   build/examples/fashion_mnist                 train with the defaults below
//   build/examples/fashion_mnist --help          list the flags
//
// The data comes from Debian's dataset-fashion-mnist package.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// Settings, each overridable by a flag.
struct Options {
  std::string data_directory = kFashionMnistDefaultDirectory;
  int epochs = 10;                            // passes over the training set in this run
  std::size_t batch_size = 64;                // images per optimizer step
  double learning_rate = 1e-3;                // Adam's step size; try 0.1 for SGD
  std::string optimizer = "adam";             // "adam" or "sgd" (with momentum 0.9)
  std::vector<std::size_t> hidden = {256, 128};  // hidden layer widths
  std::uint64_t seed = 1;                     // weights and shuffling
  int threads = 1;                            // threads for GEMMs and loops
  std::string save_path;                      // write a training checkpoint here
  std::string load_path;                      // start from this checkpoint
  std::string metrics_path;                   // CSV of per-epoch numbers
  std::size_t train_limit = 0;                // train on the first N images; 0 = all
};

constexpr std::size_t kImagePixels = kFashionMnistImageSize * kFashionMnistImageSize;
constexpr std::size_t kEvaluationBatchSize = 1000;

std::optional<Options> parse_options(int argc, char** argv);  // defined at the end

// The network: 784 -> hidden[0] -> ReLU -> ... -> 10.
Sequential<float> build_model(const std::vector<std::size_t>& hidden, Generator& generator) {
  Sequential<float> model;
  std::size_t in_features = kImagePixels;
  for (const std::size_t width : hidden) {
    model.push_back(Linear<float>(in_features, width, /*bias=*/true, generator));
    model.push_back(ReLU<float>());
    in_features = width;
  }
  model.push_back(Linear<float>(in_features, kFashionMnistNumClasses, /*bias=*/true, generator));
  return model;
}

// The class with the largest logit in each row.
void predict(const Tensor<float>& logits, std::vector<std::size_t>& predictions) {
  const std::size_t batch_size = logits.shape()[0];
  const std::size_t num_classes = logits.shape()[1];
  predictions.resize(batch_size);
  for (std::size_t row = 0; row < batch_size; ++row) {
    const float* values = logits.data() + row * num_classes;
    predictions[row] = static_cast<std::size_t>(std::max_element(values, values + num_classes) - values);
  }
}

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  std::vector<std::vector<std::size_t>> confusion;  // [true class][predicted class]
};

// Loss and accuracy over a whole split, without recording a graph.
Evaluation evaluate(Sequential<float>& model, const Tensor<std::uint8_t>& images,
                    const Tensor<std::uint8_t>& labels) {
  NoGradGuard no_grad;
  model.eval();

  Evaluation result;
  result.confusion.assign(kFashionMnistNumClasses, std::vector<std::size_t>(kFashionMnistNumClasses, 0));
  BatchLoader loader(images.shape()[0], kEvaluationBatchSize, /*shuffle=*/false, 0);
  loader.start_epoch();
  std::vector<std::size_t> indices, predictions;
  Tensor<float> batch;
  Tensor<std::int64_t> batch_labels;
  std::size_t correct = 0;
  while (loader.next_batch(indices)) {
    gather_images(images, indices, batch);
    gather_labels(labels, indices, batch_labels);
    const Variable<float> logits = model(Variable<float>(batch));
    result.loss += sparse_softmax_cross_entropy(logits.value(), batch_labels) * indices.size();

    predict(logits.value(), predictions);
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const auto truth = static_cast<std::size_t>(batch_labels(i));
      result.confusion[truth][predictions[i]] += 1;
      correct += predictions[i] == truth;
    }
  }
  const double count = static_cast<double>(images.shape()[0]);
  result.loss /= count;
  result.accuracy = static_cast<double>(correct) / count;
  model.train();
  return result;
}

// A progress bar that redraws one line of stderr.
void show_progress(std::size_t done, std::size_t total, double mean_loss) {
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = done * kWidth / std::max<std::size_t>(total, 1);
  std::fprintf(stderr, "\r  [%s%s] %zu/%zu  loss %.4f", std::string(filled, '=').c_str(),
               std::string(kWidth - filled, ' ').c_str(), done, total, mean_loss);
  std::fflush(stderr);
}

void print_report(const Evaluation& test) {
  std::cout << "\nper-class test accuracy:\n";
  for (std::size_t c = 0; c < kFashionMnistNumClasses; ++c) {
    std::size_t total = 0;
    for (const std::size_t count : test.confusion[c]) total += count;
    const double accuracy = total ? static_cast<double>(test.confusion[c][c]) / total : 0.0;
    std::printf("  %-12s %.4f\n", std::string(kFashionMnistClassNames[c]).c_str(), accuracy);
  }
  std::cout << "\nconfusion matrix (rows: true class, columns: predicted class):\n     ";
  for (std::size_t c = 0; c < kFashionMnistNumClasses; ++c) std::printf("%6zu", c);
  std::cout << '\n';
  for (std::size_t truth = 0; truth < kFashionMnistNumClasses; ++truth) {
    std::printf("  %2zu ", truth);
    for (const std::size_t count : test.confusion[truth]) std::printf("%6zu", count);
    std::printf("   %s\n", std::string(kFashionMnistClassNames[truth]).c_str());
  }
}

// Throws FileError, before any training, when `path` could not be written
// at the end: a run of many minutes should not end in an error about a
// missing folder.
void check_output_path(const std::string& path, const char* flag) {
  if (path.empty()) return;
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  if (!std::filesystem::is_directory(folder)) {
    throw FileError(std::string(flag) + " " + path + ": the folder " + folder.string() +
                    " does not exist; create it or pass another path");
  }
  if (std::filesystem::is_directory(path)) {
    throw FileError(std::string(flag) + " " + path + ": it names a directory; pass a file path");
  }
}

int run(const Options& options) {
  check_output_path(options.save_path, "--save");
  check_output_path(options.metrics_path, "--metrics");

  // tapegrad's own pool splits each GEMM and elementwise loop; BLAS stays
  // on one thread, because a second pool would compete for the same cores.
  set_num_threads(options.threads);
  set_blas_threads(1);

  // 1. Data: uint8 images stay in memory; batches become float in [0, 1].
  const FashionMnist data = load_fashion_mnist(options.data_directory);
  std::size_t train_count = data.train_images.shape()[0];
  if (options.train_limit > 0) train_count = std::min(train_count, options.train_limit);

  // 2. Model, optimizer and batch order, all from the seed.
  Generator init_generator(options.seed);
  Sequential<float> model = build_model(options.hidden, init_generator);
  std::unique_ptr<Optimizer<float>> optimizer;
  if (options.optimizer == "adam") {
    optimizer = std::make_unique<Adam<float>>(model.parameters(), options.learning_rate);
  } else {
    optimizer = std::make_unique<SGD<float>>(model.parameters(), options.learning_rate,
                                             SgdOptions{.momentum = 0.9});
  }
  BatchLoader loader(train_count, options.batch_size, /*shuffle=*/true, options.seed + 1);

  // A checkpoint replaces the fresh weights; a training checkpoint also
  // restores the optimizer and the shuffling, so training resumes exactly.
  TrainingState<float> state{optimizer.get(), nullptr, &loader.generator(), 0};
  if (!options.load_path.empty()) {
    try {
      if (options.epochs == 0) {
        load(options.load_path, model);
      } else {
        load(options.load_path, model, state);
      }
    } catch (const Error& error) {
      // Unless the file is missing, the usual cause is a checkpoint saved
      // with other flags, and the error lists every mismatch but not that.
      if (!std::filesystem::is_regular_file(options.load_path)) throw;
      throw FileError(std::string(error.what()) +
                      "; a checkpoint loads only into the model and optimizer it was saved from, "
                      "so pass the --hidden and --optimizer of the run that saved it");
    }
    std::cout << "loaded " << options.load_path << '\n';
  }

  // The learning rate follows half a cosine from --lr to 0 over the steps of
  // this run: large steps early, fine ones at the end. A resumed run starts
  // its own schedule from --lr, not from the checkpoint's final rate.
  optimizer->set_learning_rate(options.learning_rate);
  const std::size_t total_steps = std::max<std::size_t>(
      1, static_cast<std::size_t>(options.epochs) * loader.batches_per_epoch());
  CosineAnnealingLR<float> schedule(*optimizer, total_steps);

  // 3. Train: for each batch, zero_grad, forward, loss, backward, step.
  std::ostringstream metrics;
  metrics << "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  const bool interactive = ::isatty(STDERR_FILENO);
  std::vector<std::size_t> indices, predictions;
  Tensor<float> batch;
  Tensor<std::int64_t> batch_labels;
  double train_seconds = 0;
  Evaluation test;

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    std::size_t correct = 0, seen = 0, step = 0;
    loader.start_epoch();
    while (loader.next_batch(indices)) {
      gather_images(data.train_images, indices, batch);
      gather_labels(data.train_labels, indices, batch_labels);

      optimizer->zero_grad();
      const Variable<float> logits = model(Variable<float>(batch));
      const Variable<float> loss = sparse_softmax_cross_entropy(logits, batch_labels);
      loss.backward();
      optimizer->step();
      schedule.step();

      loss_sum += loss.value()() * indices.size();
      seen += indices.size();
      predict(logits.value(), predictions);
      for (std::size_t i = 0; i < indices.size(); ++i) {
        correct += predictions[i] == static_cast<std::size_t>(batch_labels(i));
      }
      if (interactive && (++step % 20 == 0)) show_progress(seen, train_count, loss_sum / seen);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train_seconds += seconds;
    state.epoch += 1;

    test = evaluate(model, data.test_images, data.test_labels);
    const double train_loss = loss_sum / seen;
    const double train_accuracy = static_cast<double>(correct) / seen;
    if (interactive) std::fprintf(stderr, "\r%*s\r", 70, "");
    std::printf("epoch %2zu  train loss %.4f  accuracy %.4f  |  test loss %.4f  accuracy %.4f  |  %.1f s, %.0f samples/s\n",
                state.epoch, train_loss, train_accuracy, test.loss, test.accuracy, seconds,
                seen / seconds);
    std::fflush(stdout);

    metrics << state.epoch << ',' << train_loss << ',' << train_accuracy << ',' << test.loss << ','
            << test.accuracy << ',' << seconds << '\n';
    if (!options.metrics_path.empty()) write_file_atomically(options.metrics_path, metrics.str());
  }

  // 4. Report, and save what was trained.
  if (options.epochs == 0) {
    test = evaluate(model, data.test_images, data.test_labels);
    // The CSV of a run without epochs is its header alone.
    if (!options.metrics_path.empty()) write_file_atomically(options.metrics_path, metrics.str());
  }
  print_report(test);
  if (!options.save_path.empty()) {
    save(options.save_path, model, state);
    std::cout << "saved " << options.save_path << '\n';
  }
  std::printf("final test_accuracy=%.4f test_loss=%.4f epochs=%d train_seconds=%.1f\n",
              test.accuracy, test.loss, options.epochs, train_seconds);
  return 0;
}

// ---------------------------------------------------------------------------
// Command-line flags.

const char* kUsage = R"(usage: fashion_mnist [flags]

Trains an MLP on Fashion-MNIST and prints per-epoch and final accuracy.

  --data DIR          folder with the four gzipped IDX files
                      (default /usr/share/datasets/fashion-mnist)
  --epochs N          epochs to train in this run; 0 only evaluates (default 10)
  --batch-size N      images per step (default 64)
  --lr X              starting learning rate, annealed to 0 over the steps
                      of the run by a cosine schedule (default 0.001)
  --optimizer NAME    adam or sgd; sgd uses momentum 0.9 (default adam)
  --hidden LIST       hidden layer widths, comma-separated (default 256,128)
  --seed N            seed for weights and shuffling (default 1)
  --threads N         threads that split each GEMM and elementwise loop
                      (default 1)
  --save FILE         write a safetensors training checkpoint at the end
  --load FILE         start from a checkpoint: with --epochs 0 evaluate it,
                      otherwise resume its training
  --metrics FILE      write per-epoch numbers as CSV
  --train-limit N     train on the first N training images only, for quick
                      checks (default 0: all 60,000)
  --help              print this text
)";

bool parse_count(const std::string& text, std::uint64_t maximum, std::uint64_t& value) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  value = std::stoull(text);
  return value <= maximum;
}

// The flags that take a value, each with what a valid value is, for the
// error messages.
const std::map<std::string, std::string> kValueFlags = {
    {"--data", "a folder"},
    {"--epochs", "a whole number from 0 to 1000000"},
    {"--batch-size", "a whole number from 1 to 1000000"},
    {"--lr", "a number above 0 and below 1e6"},
    {"--optimizer", "adam or sgd"},
    {"--hidden", "widths from 1 to 100000, comma-separated"},
    {"--seed", "a whole number from 0 to 18446744073709551615"},
    {"--threads", "a whole number from 1 to 256"},
    {"--save", "a file path"},
    {"--load", "a file path"},
    {"--metrics", "a file path"},
    {"--train-limit", "a whole number; 0 means all images"},
};

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    const auto known = kValueFlags.find(flag);
    if (known == kValueFlags.end()) {
      std::cerr << "fashion_mnist: unknown flag " << flag << "\n\n";
      return std::nullopt;
    }
    const std::string& expected = known->second;
    if (i + 1 >= argc) {
      std::cerr << "fashion_mnist: missing value for " << flag << "; expected " << expected
                << "\n\n";
      return std::nullopt;
    }

    const std::string value = argv[++i];
    std::uint64_t number = 0;
    bool valid = true;
    if (flag == "--data") {
      options.data_directory = value;
    } else if (flag == "--epochs") {
      valid = parse_count(value, 1000000, number);
      options.epochs = static_cast<int>(number);
    } else if (flag == "--batch-size") {
      valid = parse_count(value, 1000000, number) && number > 0;
      options.batch_size = number;
    } else if (flag == "--lr") {
      char* end = nullptr;
      options.learning_rate = std::strtod(value.c_str(), &end);
      valid = !value.empty() && end == value.c_str() + value.size() && options.learning_rate > 0 &&
              options.learning_rate < 1e6;
    } else if (flag == "--optimizer") {
      options.optimizer = value;
      valid = value == "adam" || value == "sgd";
    } else if (flag == "--hidden") {
      options.hidden.clear();
      std::stringstream list(value);
      std::string item;
      while (valid && std::getline(list, item, ',')) {
        valid = parse_count(item, 100000, number) && number > 0;
        options.hidden.push_back(number);
      }
      valid = valid && !value.empty() && value.back() != ',';
    } else if (flag == "--seed") {
      valid = parse_count(value, UINT64_MAX, number);
      options.seed = number;
    } else if (flag == "--threads") {
      valid = parse_count(value, 256, number) && number > 0;
      options.threads = static_cast<int>(number);
    } else if (flag == "--save") {
      options.save_path = value;
    } else if (flag == "--load") {
      options.load_path = value;
    } else if (flag == "--metrics") {
      options.metrics_path = value;
    } else if (flag == "--train-limit") {
      valid = parse_count(value, UINT64_MAX, number);
      options.train_limit = number;
    }
    if (!valid) {
      std::cerr << "fashion_mnist: invalid value '" << value << "' for " << flag << "; expected "
                << expected << "\n\n";
      return std::nullopt;
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> options = parse_options(argc, argv);
  if (!options) {
    std::cerr << kUsage;
    return 2;
  }
  try {
    return run(*options);
  } catch (const std::exception& error) {
    std::cerr << "fashion_mnist: error: " << error.what() << '\n';
    return 1;
  }
}
