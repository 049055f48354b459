// End-to-end runs of the example programs, as a user runs them.
//
// meson passes each program's path in an environment variable, so these
// tests run the binaries that the build just made.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "temporary_directory.hpp"

namespace {

struct RunResult {
  int exit_code;
  std::string output;  // stdout, then stderr
};

// Runs `command` through the shell and returns its exit code and output.
RunResult run(const std::string& command) {
  RunResult result{-1, ""};
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, count);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string program(const char* variable) {
  const char* path = std::getenv(variable);
  REQUIRE_MESSAGE(path != nullptr, variable << " is not set; run this test through meson test");
  return path;
}

bool dataset_installed() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

// The numbers of the last line: "final test_accuracy=A test_loss=L epochs=E ...".
struct FinalLine {
  double test_accuracy = -1;
  double test_loss = -1;
  int epochs = -1;
};

FinalLine parse_final_line(const std::string& output) {
  const std::regex pattern(
      R"(final test_accuracy=([0-9.]+) test_loss=([0-9.]+) epochs=([0-9]+) train_seconds=[0-9.]+\n?$)");
  std::smatch match;
  FinalLine line;
  if (std::regex_search(output, match, pattern)) {
    line.test_accuracy = std::stod(match[1]);
    line.test_loss = std::stod(match[2]);
    line.epochs = std::stoi(match[3]);
  }
  return line;
}

}  // namespace

TEST_CASE("xor example converges") {
  const RunResult result = run(program("TAPEGRAD_XOR"));
  CAPTURE(result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output.find("accuracy 4/4") != std::string::npos);
}

TEST_CASE("fashion_mnist trains one epoch on 6000 images") {
  if (!dataset_installed()) {
    MESSAGE("skipped: Fashion-MNIST is not installed; run scripts/install-deps "
            "(package dataset-fashion-mnist)");
    return;
  }
  TemporaryDirectory folder;
  const std::string checkpoint = folder.file("model.safetensors");
  const std::string metrics = folder.file("metrics.csv");

  // One epoch of 6,000 images is only 94 steps at the default batch size of
  // 64; batches of 32 at a higher rate make 188 larger steps, which reach
  // about 0.78 instead of 0.76 and so stay clear of the 0.75 bound.
  const RunResult trained =
      run(program("TAPEGRAD_FASHION_MNIST") + " --epochs 1 --train-limit 6000 --batch-size 32" +
          " --lr 0.003 --save " + checkpoint + " --metrics " + metrics);
  CAPTURE(trained.output);
  REQUIRE(trained.exit_code == 0);
  const FinalLine first = parse_final_line(trained.output);
  CHECK(first.epochs == 1);
  CHECK(first.test_accuracy > 0.75);
  CHECK(first.test_loss > 0);

  // The metrics file has a header and one line per epoch.
  const std::string csv = read_file_bytes(metrics);
  CHECK(csv.rfind("epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n1,", 0) == 0);

  // Loading the checkpoint and only evaluating gives the same numbers.
  const RunResult evaluated =
      run(program("TAPEGRAD_FASHION_MNIST") + " --epochs 0 --load " + checkpoint);
  CAPTURE(evaluated.output);
  REQUIRE(evaluated.exit_code == 0);
  const FinalLine second = parse_final_line(evaluated.output);
  CHECK(second.epochs == 0);
  CHECK(second.test_accuracy == first.test_accuracy);
  CHECK(second.test_loss == first.test_loss);

  // A checkpoint of another model names the mismatch and the flags to fix.
  const RunResult mismatched =
      run(program("TAPEGRAD_FASHION_MNIST") + " --epochs 0 --hidden 64 --load " + checkpoint);
  CAPTURE(mismatched.output);
  CHECK(mismatched.exit_code == 1);
  CHECK(mismatched.output.find("'0.weight' is [256, 784] but the parameter is [64, 784]") !=
        std::string::npos);
  CHECK(mismatched.output.find("pass the --hidden and --optimizer of the run that saved it") !=
        std::string::npos);
}

TEST_CASE("fashion_mnist rejects bad flags with exit code 2") {
  const std::string binary = program("TAPEGRAD_FASHION_MNIST");
  for (const std::string arguments :
       {"--epochs -1", "--no-such-flag 1", "--optimizer rmsprop", "--hidden 256,,128",
        "--batch-size 0", "--lr abc", "--epochs"}) {
    CAPTURE(arguments);
    const RunResult result = run(binary + " " + arguments);
    CHECK(result.exit_code == 2);
    CHECK(result.output.find("usage: fashion_mnist") != std::string::npos);
  }
  const RunResult help = run(binary + " --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--metrics FILE") != std::string::npos);
}

TEST_CASE("fashion_mnist names the bad flag and the expected value") {
  const std::string binary = program("TAPEGRAD_FASHION_MNIST");

  // A flag is reported as unknown in any position, the last included.
  const RunResult unknown = run(binary + " --no-such-flag");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.output.find("unknown flag --no-such-flag") != std::string::npos);

  const RunResult missing = run(binary + " --threads");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("missing value for --threads; expected a whole number from 1 to 256") !=
        std::string::npos);

  const RunResult invalid = run(binary + " --threads 1000");
  CHECK(invalid.exit_code == 2);
  CHECK(invalid.output.find("invalid value '1000' for --threads; expected a whole number from 1 "
                            "to 256") != std::string::npos);
}

TEST_CASE("fashion_mnist checks output paths before training") {
  // The folder check runs before the data is read, so these fail at once,
  // whether or not the data is installed.
  TemporaryDirectory folder;
  const std::string binary = program("TAPEGRAD_FASHION_MNIST");
  const std::string absent_folder = folder.file("absent");

  const RunResult save = run(binary + " --save " + absent_folder + "/model.safetensors");
  CAPTURE(save.output);
  CHECK(save.exit_code == 1);
  CHECK(save.output.find("the folder " + absent_folder + " does not exist") != std::string::npos);
  CHECK(save.output.find("epoch") == std::string::npos);

  const RunResult metrics = run(binary + " --metrics " + folder.path().string());
  CAPTURE(metrics.output);
  CHECK(metrics.exit_code == 1);
  CHECK(metrics.output.find("--metrics " + folder.path().string() + ": it names a directory") !=
        std::string::npos);
}

TEST_CASE("fashion_mnist explains a missing data folder") {
  TemporaryDirectory folder;
  const RunResult result =
      run(program("TAPEGRAD_FASHION_MNIST") + " --epochs 1 --data " + folder.file("absent"));
  CAPTURE(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("dataset-fashion-mnist") != std::string::npos);
  CHECK(result.output.find("--data DIR") != std::string::npos);
}
