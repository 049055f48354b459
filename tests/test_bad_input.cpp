// Bad input for every public function: wrong shapes and ranks, empty tensors,
// NaN and inf, out-of-range labels and indices, invalid hyperparameters,
// missing files and paths that name a directory.
//
// Each row of a table calls one function with one bad input and expects the
// exception that the function documents, with a message that contains the
// row's text, which names the offending value. A crash fails the whole
// program, and the sanitizer build reports memory errors and undefined
// behaviour. A second table runs edge inputs that are valid, empty tensors
// above all, and checks that they return a result of the right shape
// without NaN.
//
// The autograd ops follow IEEE arithmetic (NaN in gives NaN out, log(-1) is
// NaN) and document anomaly mode as the way to catch it, so their NaN and inf
// rows run under DetectAnomalyGuard and expect AnomalyError.
//
// Not rows, because the compiler rejects them:
// - sparse_softmax_cross_entropy with bool labels (a static_assert) or labels
//   of a type that is not a number or an enum;
// - a loss's grad_output of a type that is not a number or a tensor;
// - Sequential of a type that does not derive from Module;
// - ops on Variable<int>: only float and double are compiled, so the program
//   does not link.
// Not rows, because their contract leaves the check to the caller:
// - the row kernels of core/kernels.hpp, whose inputs must be finite or -inf;
//   every caller (softmax, log_softmax, the losses) checks its rows first;
// - pooled_tensor, recycle and parallel_for, helpers for op authors whose
//   arguments come from tensors that already exist;
// - record_op, should_record, check_anomaly and Node::accumulate, the other
//   helpers for op authors, whose errors test_autograd_engine.cpp checks;
// - RecyclingAllocator::allocate, which throws std::bad_array_new_length for
//   an oversized count, as std::allocator does.
// Not rows either: functions that take no input that can be invalid, such as
// format_shape, Tape::print, NoGradGuard and Module::parameters, and
// unreadable files, because the tests run as root, whom permissions do not
// stop.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "tapegrad.hpp"
#include "temporary_directory.hpp"

using namespace tapegrad;

namespace {

using Shape = std::vector<std::size_t>;

constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();
constexpr float infinity = std::numeric_limits<float>::infinity();

enum class Expect { shape_error, value_error, file_error, graph_error, anomaly_error };

std::string to_string(Expect expected) {
  switch (expected) {
    case Expect::shape_error: return "ShapeError";
    case Expect::value_error: return "ValueError";
    case Expect::file_error: return "FileError";
    case Expect::graph_error: return "GraphError";
    case Expect::anomaly_error: return "AnomalyError";
  }
  return "?";
}

struct BadInput {
  std::string name;
  std::function<void()> call;
  Expect expected;
  std::string message;  // a part of the message that names the value
};

// The most derived tapegrad class of `error`.
std::string kind_of(const std::exception& error) {
  if (dynamic_cast<const AnomalyError*>(&error)) return "AnomalyError";
  if (dynamic_cast<const ShapeError*>(&error)) return "ShapeError";
  if (dynamic_cast<const ValueError*>(&error)) return "ValueError";
  if (dynamic_cast<const FileError*>(&error)) return "FileError";
  if (dynamic_cast<const GraphError*>(&error)) return "GraphError";
  return std::string("not a tapegrad error: ") + typeid(error).name();
}

void check_rows(const std::vector<BadInput>& rows) {
  for (const BadInput& row : rows) {
    CAPTURE(row.name);
    std::string kind = "no exception";
    std::string message;
    try {
      row.call();
    } catch (const std::exception& error) {
      kind = kind_of(error);
      message = error.what();
    }
    CAPTURE(message);
    CHECK(kind == to_string(row.expected));
    CHECK(message.find(row.message) != std::string::npos);
  }
}

// A valid edge input: the call must return a result of `shape` without NaN.
struct EdgeInput {
  std::string name;
  std::function<Tensor<double>()> call;
  std::string shape;
};

void check_edges(const std::vector<EdgeInput>& rows) {
  for (const EdgeInput& row : rows) {
    CAPTURE(row.name);
    Tensor<double> result;
    REQUIRE_NOTHROW(result = row.call());
    CHECK(format_shape(result.shape()) == row.shape);
    std::size_t nan_count = 0;
    for (const double value : result) nan_count += std::isnan(value) ? 1 : 0;
    CHECK(nan_count == 0);
  }
}

// Runs `call` with anomaly detection on.
std::function<void()> in_anomaly_mode(std::function<void()> call) {
  return [call] {
    DetectAnomalyGuard guard;
    call();
  };
}

template <class T = float>
Tensor<T> full(const Shape& shape, T value) {
  Tensor<T> tensor = Tensor<T>::from_shape(shape);
  tensor.fill(value);
  return tensor;
}

template <class T = float>
Variable<T> parameter(const Shape& shape, T value = T(1)) {
  return Variable<T>(full<T>(shape, value), /*requires_grad=*/true);
}

template <class T>
Tensor<double> as_double(const Tensor<T>& tensor) {
  Tensor<double> result = Tensor<double>::from_shape(tensor.shape());
  std::copy(tensor.begin(), tensor.end(), result.begin());
  return result;
}

Tensor<double> scalar(double value) { return Tensor<double>(value); }

// An IDX file of unsigned bytes with the given sizes and data.
std::string idx_file(const std::vector<std::uint32_t>& sizes,
                     const std::vector<std::uint8_t>& data) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(sizes.size())};
  for (const std::uint32_t size : sizes) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(size >> shift));
  }
  bytes.append(data.begin(), data.end());
  return bytes;
}

// Writes a Fashion-MNIST folder of plain IDX files: `count` training and
// test images of rows x cols pixels, and the given labels for both sets.
void write_fashion_mnist(const std::string& folder, std::uint32_t count, std::uint32_t rows,
                         std::uint32_t cols, const std::vector<std::uint8_t>& labels) {
  const std::string images =
      idx_file({count, rows, cols}, std::vector<std::uint8_t>(count * rows * cols));
  const std::string label_file = idx_file({static_cast<std::uint32_t>(labels.size())}, labels);
  std::filesystem::create_directories(folder);
  write_file_bytes(folder + "/train-images-idx3-ubyte", images);
  write_file_bytes(folder + "/train-labels-idx1-ubyte", label_file);
  write_file_bytes(folder + "/t10k-images-idx3-ubyte", images);
  write_file_bytes(folder + "/t10k-labels-idx1-ubyte", label_file);
}

enum class Garment : std::uint8_t { shirt = 0, boot = 9 };

// A module whose protected registration functions are public, for rows that
// pass them bad names.
class OpenModule : public Module<float> {
 public:
  using Module<float>::register_module;
  using Module<float>::register_parameter;

  Variable<float> forward(const Variable<float>& input) override { return input; }
};

}  // namespace

TEST_CASE("bad input core") {
  TemporaryDirectory folder;
  const std::string directory = folder.path().string();
  const std::string missing = folder.file("missing/file");

  const Tensor<float> a_2x3 = full({2, 3}, 1.0f);
  const Tensor<float> b_4x5 = full({4, 5}, 1.0f);
  std::string state_with_nan = Generator(1).state();
  state_with_nan = state_with_nan.substr(0, state_with_nan.rfind(' ')) + " nan";

  check_rows({
      {"matmul 1-D a",
       [=] {
         matmul(Tensor<float>{1, 2, 3}, a_2x3);
       },
       Expect::shape_error, "matmul: a must be 2-D, but its shape is [3]"},
      {"matmul inner sizes", [=] { matmul(a_2x3, b_4x5); }, Expect::shape_error,
       "matmul: inner sizes differ: a is [2, 3], b is [4, 5]"},
      {"matmul transposed", [=] { matmul(a_2x3, b_4x5, Transpose::yes, Transpose::no); },
       Expect::shape_error, "a is [2, 3] (transposed), b is [4, 5]"},
      {"gemm out shape",
       [=] {
         Tensor<float> out = full({3, 3}, 0.0f);
         gemm(a_2x3, Transpose::no, full({3, 5}, 1.0f), Transpose::no, 1.0f, 0.0f, out);
       },
       Expect::shape_error, "gemm: out is [3, 3] but the product is [2, 5]"},
      {"gemm out rank",
       [=] {
         Tensor<float> out = full({10}, 0.0f);
         gemm(a_2x3, Transpose::no, full({3, 5}, 1.0f), Transpose::no, 1.0f, 0.0f, out);
       },
       Expect::shape_error, "gemm: out must be 2-D, but its shape is [10]"},
      {"set_blas_threads 0", [] { set_blas_threads(0); }, Expect::value_error,
       "set_blas_threads: threads must be at least 1, got 0"},
      {"set_num_threads 0", [] { set_num_threads(0); }, Expect::value_error,
       "set_num_threads: threads must be at least 1, got 0"},
      {"check_rank", [=] { check_rank(a_2x3, 3, "caller: x"); }, Expect::shape_error,
       "caller: x must be 3-D, but its shape is [2, 3]"},

      {"Generator::uniform low above high", [] { Generator(1).uniform(2.0, 1.0); },
       Expect::value_error, "low=2, high=1"},
      {"Generator::uniform NaN", [] { Generator(1).uniform(not_a_number, 1.0); },
       Expect::value_error, "low=nan"},
      {"Generator::uniform infinite", [] { Generator(1).uniform(-infinity, infinity); },
       Expect::value_error, "low=-inf, high=inf"},
      {"Generator::normal negative stddev", [] { Generator(1).normal(0.0, -1.0); },
       Expect::value_error, "stddev must be finite and >= 0, got -1"},
      {"Generator::normal NaN stddev", [] { Generator(1).normal(0.0, not_a_number); },
       Expect::value_error, "got nan"},
      {"Generator::normal infinite stddev", [] { Generator(1).normal(0.0, infinity); },
       Expect::value_error, "got inf"},
      {"Generator::normal NaN mean", [] { Generator(1).normal(not_a_number, 1.0); },
       Expect::value_error, "mean must be finite, got nan"},
      {"Generator::uniform overflowing width", [] { Generator(1).uniform(-1e308, 1e308); },
       Expect::value_error, "a finite difference, got low=-1e+308, high=1e+308"},
      {"Generator::below 0", [] { Generator(1).below(0); }, Expect::value_error,
       "bound must be > 0, got 0"},
      {"Generator::set_state text", [] { Generator(1).set_state("not a state"); },
       Expect::value_error, "the text 'not a state' (11 characters) is not a generator state"},
      {"Generator::set_state NaN spare", [=] { Generator(1).set_state(state_with_nan); },
       Expect::value_error, "the spare normal sample 'nan' at the end of the state"},
      {"Generator::uniform_tensor NaN bound",
       [] { Generator(1).uniform_tensor<float>({2}, not_a_number, 1.0f); }, Expect::value_error,
       "low=nan"},
      {"Generator::normal_tensor negative stddev",
       [] { Generator(1).normal_tensor<double>({2}, 0.0, -2.0); }, Expect::value_error,
       "got -2"},

      {"write_file_atomically empty path", [] { write_file_atomically("", "x"); },
       Expect::file_error, "write_file_atomically: the path is empty"},
      {"write_file_atomically directory", [=] { write_file_atomically(directory, "x"); },
       Expect::file_error, "'" + directory + "': it names a directory"},
      {"write_file_atomically trailing slash",
       [=] { write_file_atomically(directory + "/name/", "x"); }, Expect::file_error,
       "'" + directory + "/name/': it names a directory"},
      {"write_file_atomically missing directory", [=] { write_file_atomically(missing, "x"); },
       Expect::file_error,
       "directory '" + folder.file("missing") +
           "' failed: No such file or directory; create the directory first"},
  });
}

TEST_CASE("bad input autograd ops") {
  const Variable<float> x_2x3 = parameter({2, 3});
  const Variable<float> x_3x2 = parameter({3, 2});
  const Variable<float> empty = parameter({0, 3});
  const Variable<float> with_nan = parameter({2, 3}, not_a_number);
  const Variable<float> with_inf = parameter({2, 3}, infinity);
  const Variable<float> constant_scalar(full({}, 1.0f));

  check_rows({
      {"add shapes", [=] { add(x_2x3, x_3x2); }, Expect::shape_error,
       "add: cannot broadcast [2, 3] with [3, 2]"},
      {"sub shapes", [=] { sub(x_2x3, parameter({2})); }, Expect::shape_error,
       "sub: cannot broadcast [2, 3] with [2]"},
      {"mul 3-D with a row",
       [=] {
         mul(parameter({2, 3, 4}), parameter({4}));
       },
       Expect::shape_error, "mul: cannot broadcast [2, 3, 4] with [4]"},
      {"div column of the wrong length",
       [=] {
         div(x_2x3, parameter({3, 1}));
       },
       Expect::shape_error, "div: cannot broadcast [2, 3] with [3, 1]"},
      {"operator+ shapes", [=] { static_cast<void>(x_2x3 + empty); }, Expect::shape_error,
       "add: cannot broadcast [2, 3] with [0, 3]"},
      {"mul by a number beyond float", [=] { mul(x_2x3, 1e300); }, Expect::value_error,
       "mul: the number 1e+300 is beyond the largest float"},
      {"operator- of a number beyond float", [=] { static_cast<void>(-1e300 - x_2x3); },
       Expect::value_error, "sub: the number -1e+300 is beyond the largest float"},
      {"operator/ of double by a number beyond double",
       [] { static_cast<void>(parameter<double>({2}) / 1e400L); }, Expect::value_error,
       "div: the number 1e+400 is beyond the largest double"},
      {"pow exponent beyond float", [=] { pow(x_2x3, 1e300); }, Expect::value_error,
       "pow: the number 1e+300 is beyond the largest float"},
      {"matmul rank", [=] { matmul(parameter({3}), x_3x2); }, Expect::shape_error,
       "matmul: a must be 2-D, but its shape is [3]"},
      {"matmul inner sizes", [=] { matmul(x_2x3, x_2x3); }, Expect::shape_error,
       "matmul: inner sizes differ: a is [2, 3], b is [2, 3]"},
      {"transpose rank",
       [=] {
         transpose(parameter({2, 3, 4}));
       },
       Expect::shape_error, "transpose: x must be 2-D, but its shape is [2, 3, 4]"},
      {"linear 1-D x", [=] { linear(parameter({3}), x_2x3); }, Expect::shape_error,
       "linear: x must be 2-D, but its shape is [3]"},
      {"linear in_features", [=] { linear(x_3x2, x_2x3); }, Expect::shape_error,
       "linear: x is [3, 2] and weight is [2, 3]"},
      {"linear bias", [=] { linear(x_2x3, x_2x3, parameter({3})); }, Expect::shape_error,
       "linear: bias is [3] but must be [2]"},
      {"linear 0-D bias", [=] { linear(x_2x3, x_2x3, parameter({})); }, Expect::shape_error,
       "linear: bias is [] but must be [2]"},
      {"sum axis", [=] { sum(x_2x3, 2); }, Expect::shape_error,
       "sum: axis 2 is out of range for x of rank 2"},
      {"sum negative axis", [=] { sum(x_2x3, -3); }, Expect::shape_error,
       "sum: axis -3 is out of range"},
      {"sum axis of a 0-D x", [=] { sum(parameter({}), 0); }, Expect::shape_error,
       "sum: axis 0 is out of range for x of rank 0, shaped []; a 0-D tensor has no axes"},
      {"mean axis", [=] { mean(x_2x3, 5, true); }, Expect::shape_error,
       "mean: axis 5 is out of range for x of rank 2"},
      {"mean of empty x", [=] { mean(empty); }, Expect::value_error,
       "mean: x is empty, shaped [0, 3]"},
      {"mean over an empty axis", [=] { mean(empty, 0); }, Expect::value_error,
       "mean: axis 0 of x, shaped [0, 3], has size 0"},
      {"reshape count",
       [=] {
         reshape(x_2x3, {4, 2});
       },
       Expect::shape_error,
       "reshape: cannot reshape x, shaped [2, 3] (6 elements), into [4, 2] (8 elements)"},
      {"reshape empty into an overflowing shape",
       [=] {
         reshape(parameter({0}), {std::size_t{1} << 32, std::size_t{1} << 32});
       },
       Expect::shape_error, "into [4294967296, 4294967296]: the product of its nonzero sizes"},
      {"flatten 1-D", [=] { flatten(parameter({3})); }, Expect::shape_error,
       "flatten: x must have a batch dimension and at least one more, but it is shaped [3]"},
      {"softmax 0-D", [=] { softmax(parameter({})); }, Expect::shape_error, "softmax: x is 0-D"},
      {"log_softmax 0-D", [=] { log_softmax(parameter({})); }, Expect::shape_error,
       "log_softmax: x is 0-D"},

      {"backward of a non-scalar", [=] { x_2x3.backward(); }, Expect::graph_error,
       "is shaped [2, 3], not a scalar"},
      {"backward of an empty variable", [=] { empty.backward(); }, Expect::graph_error,
       "is shaped [0, 3], not a scalar"},
      {"backward without requires_grad", [=] { constant_scalar.backward(); },
       Expect::graph_error,
       "backward: variable " + std::to_string(constant_scalar.id()) + " does not require grad"},
      {"backward grad_output shape",
       [=] {
         mul(x_2x3, 2.0).backward(full({3, 2}, 1.0f));
       },
       Expect::shape_error,
       "backward: grad_output is shaped [3, 2] but the variable is shaped [2, 3]"},
      {"backward twice",
       [=] {
         const Variable<float> loss = sum(mul(x_2x3, x_2x3));
         loss.backward();
         loss.backward();
       },
       Expect::graph_error, "the graph through op 'sum' was already released"},
      {"set_requires_grad on a result", [=] { mul(x_2x3, 2.0).set_requires_grad(false); },
       Expect::graph_error, "is the result of op 'mul', and only leaves can change requires_grad"},

      {"add NaN", in_anomaly_mode([=] { add(x_2x3, with_nan); }), Expect::anomaly_error,
       "the forward of op 'add' produced NaN at flat index 0"},
      {"mul by a NaN number",
       in_anomaly_mode([=] { mul(x_2x3, std::numeric_limits<double>::quiet_NaN()); }),
       Expect::anomaly_error, "the forward of op 'mul' produced NaN at flat index 0"},
      {"sub inf", in_anomaly_mode([=] { sub(with_inf, x_2x3); }), Expect::anomaly_error,
       "the forward of op 'sub' produced inf"},
      {"mul inf by 0", in_anomaly_mode([=] {
         mul(with_inf, parameter({2, 3}, 0.0f));
       }),
       Expect::anomaly_error, "the forward of op 'mul' produced NaN"},
      {"div 0 by 0", in_anomaly_mode([=] { div(parameter({2}, 0.0f), parameter({2}, 0.0f)); }),
       Expect::anomaly_error, "the forward of op 'div' produced NaN"},
      {"neg NaN", in_anomaly_mode([=] { neg(with_nan); }), Expect::anomaly_error,
       "op 'neg' produced NaN"},
      {"exp overflow", in_anomaly_mode([=] { exp(parameter({2}, 1000.0f)); }),
       Expect::anomaly_error, "op 'exp' produced inf"},
      {"log of -1", in_anomaly_mode([=] { log(parameter({2}, -1.0f)); }), Expect::anomaly_error,
       "op 'log' produced NaN"},
      {"log of 0", in_anomaly_mode([=] { log(parameter({2}, 0.0f)); }), Expect::anomaly_error,
       "op 'log' produced inf"},
      {"pow of a negative base", in_anomaly_mode([=] { pow(parameter({2}, -1.0f), 0.5); }),
       Expect::anomaly_error, "op 'pow' produced NaN"},
      {"pow backward at 0",
       in_anomaly_mode([=] { sum(pow(parameter({2}, 0.0f), 0.5)).backward(); }),
       Expect::anomaly_error, "the backward of op 'pow' produced inf"},
      {"relu NaN", in_anomaly_mode([=] { relu(with_nan); }), Expect::anomaly_error,
       "op 'relu' produced NaN"},
      {"sigmoid NaN", in_anomaly_mode([=] { sigmoid(with_nan); }), Expect::anomaly_error,
       "op 'sigmoid' produced NaN"},
      {"tanh NaN", in_anomaly_mode([=] { tanh(with_nan); }), Expect::anomaly_error,
       "op 'tanh' produced NaN"},
      {"matmul NaN", in_anomaly_mode([=] { matmul(with_nan, x_3x2); }), Expect::anomaly_error,
       "op 'matmul' produced NaN"},
      {"transpose inf", in_anomaly_mode([=] { transpose(with_inf); }), Expect::anomaly_error,
       "op 'transpose' produced inf"},
      {"linear NaN", in_anomaly_mode([=] { linear(with_nan, x_2x3); }), Expect::anomaly_error,
       "op 'linear' produced NaN"},
      {"sum inf", in_anomaly_mode([=] { sum(with_inf); }), Expect::anomaly_error,
       "op 'sum' produced inf"},
      {"mean NaN", in_anomaly_mode([=] { mean(with_nan); }), Expect::anomaly_error,
       "op 'mean' produced NaN"},
      {"sum along an axis, NaN", in_anomaly_mode([=] { sum(with_nan, 1); }), Expect::anomaly_error,
       "op 'sum' produced NaN"},
      {"reshape NaN", in_anomaly_mode([=] {
         reshape(with_nan, {3, 2});
       }),
       Expect::anomaly_error, "op 'reshape' produced NaN"},
      {"flatten inf", in_anomaly_mode([=] { flatten(with_inf); }), Expect::anomaly_error,
       "op 'flatten' produced inf"},
      {"softmax NaN", in_anomaly_mode([=] { softmax(with_nan); }), Expect::anomaly_error,
       "op 'softmax' produced NaN"},
      {"softmax of a row of -inf", in_anomaly_mode([=] {
         softmax(parameter({1, 3}, -infinity));
       }),
       Expect::anomaly_error, "op 'softmax' produced NaN"},
      {"log_softmax +inf", in_anomaly_mode([=] { log_softmax(with_inf); }), Expect::anomaly_error,
       "op 'log_softmax' produced NaN"},
      {"backward of a NaN grad_output", in_anomaly_mode([=] {
         mul(x_2x3, 2.0).backward(full({2, 3}, not_a_number));
       }),
       Expect::anomaly_error, "the backward of op 'mul' produced NaN"},

      {"gradcheck without inputs",
       [] { gradcheck([](const std::vector<Variable<double>>& x) { return x[0]; }, {}); },
       Expect::value_error, "gradcheck: inputs is empty"},
      {"gradcheck eps 0",
       [] {
         GradcheckOptions options;
         options.eps = 0;
         gradcheck([](const std::vector<Variable<double>>& x) { return x[0]; },
                   {full<double>({2}, 1.0)}, options);
       },
       Expect::value_error, "gradcheck: eps must be a positive finite step, got 0"},
      {"gradcheck NaN atol",
       [] {
         GradcheckOptions options;
         options.atol = not_a_number;
         gradcheck([](const std::vector<Variable<double>>& x) { return x[0]; },
                   {full<double>({2}, 1.0)}, options);
       },
       Expect::value_error, "atol and rtol must be finite and non-negative, got atol nan"},
      {"gradcheck grad_output shape",
       [] {
         GradcheckOptions options;
         options.grad_output = full<double>({3}, 1.0);
         gradcheck([](const std::vector<Variable<double>>& x) { return x[0]; },
                   {full<double>({2}, 1.0)}, options);
       },
       Expect::shape_error, "gradcheck: grad_output is shaped [3]"},
      {"gradcheck output shape that changes",
       [] {
         // At 0.5 the step down changes the output from [1] to [1, 1].
         gradcheck(
             [](const std::vector<Variable<double>>& x) {
               return x[0].value()(0) >= 0.5 ? x[0] * 1 : reshape(x[0], {1, 1});
             },
             {Tensor<double>{0.5}});
       },
       Expect::shape_error,
       "gradcheck: the function's output is shaped [1, 1] after a step of eps, but [1] at the "
       "inputs"},
      {"sum_over_axis axis",
       [] {
         sum_over_axis(full({2, 3}, 1.0f), 2);
       },
       Expect::shape_error, "sum_over_axis: axis 2 is out of range for a tensor shaped [2, 3]"},
      {"sum_to_shape",
       [] {
         sum_to_shape(full({2, 3}, 1.0f), TensorShape{4});
       },
       Expect::shape_error, "sum_to_shape: a gradient shaped [2, 3] cannot be summed to [4]"},
      {"sum_rows 3-D",
       [] {
         std::vector<float> sums(4);
         sum_rows(full({2, 3, 4}, 1.0f), sums.data(), false);
       },
       Expect::shape_error, "sum_rows: matrix must be 2-D, but its shape is [2, 3, 4]"},
      {"check_broadcast", [] { check_broadcast("op", TensorShape{2}, TensorShape{3}); },
       Expect::shape_error, "op: cannot broadcast [2] with [3]"},
  });
}

TEST_CASE("bad input losses") {
  const Tensor<float> logits = {{1.0f, 2.0f, 3.0f}, {0.5f, 0.5f, 0.5f}};
  const Tensor<float> targets = {{0.0f, 1.0f, 0.0f}, {0.2f, 0.3f, 0.5f}};
  const Tensor<int> labels = {2, 0};
  const Variable<float> logits_variable(logits, true);

  const auto with = [](Tensor<float> tensor, std::size_t row, std::size_t column, float value) {
    tensor(row, column) = value;
    return tensor;
  };

  check_rows({
      {"softmax_cross_entropy 1-D logits",
       [=] {
         softmax_cross_entropy(Tensor<float>{1, 2}, Tensor<float>{0, 1});
       },
       Expect::shape_error,
       "softmax_cross_entropy: logits must be 2-D [batch, classes], but their shape is [2]"},
      {"softmax_cross_entropy empty batch",
       [=] {
         softmax_cross_entropy(full({0, 3}, 1.0f), full({0, 3}, 1.0f));
       },
       Expect::shape_error, "the batch is empty: logits are [0, 3]"},
      {"softmax_cross_entropy no classes",
       [=] {
         softmax_cross_entropy(full({2, 0}, 1.0f), full({2, 0}, 1.0f));
       },
       Expect::shape_error, "there are no classes: logits are [2, 0]"},
      {"softmax_cross_entropy targets shape",
       [=] {
         softmax_cross_entropy(logits, full({2, 4}, 0.0f));
       },
       Expect::shape_error, "[2, 4]"},
      {"softmax_cross_entropy NaN logit",
       [=] { softmax_cross_entropy(with(logits, 1, 2, not_a_number), targets); },
       Expect::value_error, "logits contain nan at [1, 2]"},
      {"softmax_cross_entropy +inf logit",
       [=] { softmax_cross_entropy(with(logits, 0, 1, infinity), targets); }, Expect::value_error,
       "logits contain inf at [0, 1]"},
      {"softmax_cross_entropy row of -inf",
       [=] {
         softmax_cross_entropy(full({2, 3}, -infinity), targets);
       },
       Expect::value_error, "row 0 of the logits is all -inf"},
      {"softmax_cross_entropy NaN target",
       [=] { softmax_cross_entropy(logits, with(targets, 1, 0, not_a_number)); },
       Expect::value_error, "targets contain nan at [1, 0]"},
      {"softmax_cross_entropy negative target",
       [=] { softmax_cross_entropy(logits, with(targets, 0, 0, -0.5f)); }, Expect::value_error,
       "targets contain -0.5 at [0, 0]"},
      {"softmax_cross_entropy inf target",
       [=] { softmax_cross_entropy(logits, with(targets, 0, 2, infinity)); }, Expect::value_error,
       "targets contain inf at [0, 2]"},
      {"softmax_cross_entropy_backward NaN grad_output",
       [=] { softmax_cross_entropy_backward(not_a_number, logits, targets); }, Expect::value_error,
       "softmax_cross_entropy_backward: grad_output is nan"},
      {"softmax_cross_entropy_backward double beyond float",
       [=] { softmax_cross_entropy_backward(1e300, logits, targets); }, Expect::value_error,
       "grad_output is 1e+300"},
      {"softmax_cross_entropy_backward grad_output of two elements",
       [=] { softmax_cross_entropy_backward(full({2}, 1.0f), logits, targets); },
       Expect::shape_error, "its shape is [2]"},
      {"softmax_cross_entropy graph NaN logit",
       [=] { softmax_cross_entropy(Variable<float>(with(logits, 0, 0, not_a_number)), targets); },
       Expect::value_error, "logits contain nan at [0, 0]"},
      {"softmax_cross_entropy class_weights length",
       [=] {
         softmax_cross_entropy(logits, targets, {.class_weights = {1.0, 2.0}});
       },
       Expect::shape_error, "class_weights has 2 elements but the logits have 3 classes"},
      {"softmax_cross_entropy ignore_index",
       [=] { softmax_cross_entropy(logits, targets, {.ignore_index = -100}); }, Expect::value_error,
       "ignore_index is -100, but it applies only to class labels"},
      {"softmax_cross_entropy_backward grad_output for reduction none",
       [=] {
         softmax_cross_entropy_backward(full({3}, 1.0f), logits, targets,
                                        {.reduction = Reduction::none});
       },
       Expect::shape_error, "grad_output is [3]"},
      {"softmax_cross_entropy graph ignore_index",
       [=] { softmax_cross_entropy(logits_variable, targets, {.ignore_index = 0}); },
       Expect::value_error,
       "softmax_cross_entropy: ignore_index is 0, but it applies only to class labels"},

      {"sparse_softmax_cross_entropy 2-D labels",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<int>{{2, 0}});
       },
       Expect::shape_error, "labels must be 1-D [batch], but their shape is [1, 2]"},
      {"sparse_softmax_cross_entropy labels length",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<int>{2, 0, 1});
       },
       Expect::shape_error, "labels are [3]"},
      {"sparse_softmax_cross_entropy label -1",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<int>{2, -1});
       },
       Expect::value_error, "label -1 in row 1"},
      {"sparse_softmax_cross_entropy label C",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<std::int64_t>{3, 0});
       },
       Expect::value_error, "label 3 in row 0"},
      {"sparse_softmax_cross_entropy largest int64",
       [=] {
         sparse_softmax_cross_entropy(
             logits, Tensor<std::int64_t>{0, std::numeric_limits<std::int64_t>::max()});
       },
       Expect::value_error, "label 9223372036854775807 in row 1"},
      {"sparse_softmax_cross_entropy uint8 255",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<std::uint8_t>{255, 0});
       },
       Expect::value_error, "label 255 in row 0"},
      {"sparse_softmax_cross_entropy fractional label",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<float>{1.5f, 0.0f});
       },
       Expect::value_error, "label 1.5 in row 0"},
      {"sparse_softmax_cross_entropy NaN label",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<double>{0.0, not_a_number});
       },
       Expect::value_error, "label nan in row 1"},
      {"sparse_softmax_cross_entropy huge float label",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<float>{1e30f, 0.0f});
       },
       Expect::value_error, "label 1e+30 in row 0"},
      {"sparse_softmax_cross_entropy enum label",
       [=] {
         sparse_softmax_cross_entropy(logits, Tensor<Garment>{Garment::boot, Garment::shirt});
       },
       Expect::value_error, "label 9 in row 0"},
      {"sparse_softmax_cross_entropy NaN logit",
       [=] { sparse_softmax_cross_entropy(with(logits, 0, 2, not_a_number), labels); },
       Expect::value_error, "logits contain nan at [0, 2]"},
      {"sparse_softmax_cross_entropy empty batch",
       [=] {
         sparse_softmax_cross_entropy(full({0, 3}, 1.0f), Tensor<int>::from_shape({0}));
       },
       Expect::shape_error, "the batch is empty: logits are [0, 3]"},
      {"sparse_softmax_cross_entropy_backward inf grad_output",
       [=] { sparse_softmax_cross_entropy_backward(infinity, logits, labels); },
       Expect::value_error, "sparse_softmax_cross_entropy_backward: grad_output is inf"},
      {"sparse_softmax_cross_entropy_backward label out of range",
       [=] {
         sparse_softmax_cross_entropy_backward(1.0f, logits, Tensor<int>{7, 0});
       },
       Expect::value_error, "label 7 in row 0"},
      {"sparse_softmax_cross_entropy_backward grad_output of two elements",
       [=] { sparse_softmax_cross_entropy_backward(full({2}, 1.0f), logits, labels); },
       Expect::shape_error,
       "sparse_softmax_cross_entropy_backward: grad_output must be a scalar or have one element, "
       "but its shape is [2]"},
      {"sparse_softmax_cross_entropy_backward grad_output for reduction none",
       [=] {
         sparse_softmax_cross_entropy_backward(full({3}, 1.0f), logits, labels,
                                               {.reduction = Reduction::none});
       },
       Expect::shape_error,
       "sparse_softmax_cross_entropy_backward: grad_output is [3] but reduction none returns "
       "[batch] = [2]"},
      {"sparse_softmax_cross_entropy graph label out of range",
       [=] {
         sparse_softmax_cross_entropy(logits_variable, Tensor<int>{0, 3});
       },
       Expect::value_error, "label 3 in row 1"},
      {"sparse_softmax_cross_entropy graph with options, label out of range",
       [=] {
         sparse_softmax_cross_entropy(logits_variable, Tensor<int>{0, 5},
                                      {.reduction = Reduction::sum});
       },
       Expect::value_error, "sparse_softmax_cross_entropy: label 5 in row 1"},
      {"sparse_softmax_cross_entropy NaN class weight",
       [=] {
         sparse_softmax_cross_entropy(logits, labels, {.class_weights = {1.0, not_a_number, 1.0}});
       },
       Expect::value_error, "class_weights[1] is nan"},
      {"sparse_softmax_cross_entropy label_smoothing 1",
       [=] { sparse_softmax_cross_entropy(logits, labels, {.label_smoothing = 1.0}); },
       Expect::value_error, "label_smoothing is 1; it must be in [0, 1)"},
      {"sparse_softmax_cross_entropy invalid reduction",
       [=] {
         sparse_softmax_cross_entropy(logits, labels, {.reduction = static_cast<Reduction>(7)});
       },
       Expect::value_error, "reduction 7 is invalid"},

      {"sigmoid_cross_entropy shapes",
       [=] {
         sigmoid_cross_entropy(logits, full({3, 2}, 0.0f));
       },
       Expect::shape_error, "[2, 3]"},
      {"sigmoid_cross_entropy empty",
       [=] { sigmoid_cross_entropy(full({0}, 0.0f), full({0}, 0.0f)); }, Expect::shape_error,
       "are empty (shape [0])"},
      {"sigmoid_cross_entropy NaN logit",
       [=] { sigmoid_cross_entropy(with(logits, 1, 1, not_a_number), targets); },
       Expect::value_error, "sigmoid_cross_entropy: logits contain nan at [1, 1]"},
      {"sigmoid_cross_entropy target 1.5",
       [=] { sigmoid_cross_entropy(logits, with(targets, 1, 2, 1.5f)); }, Expect::value_error,
       "targets contain 1.5"},
      {"sigmoid_cross_entropy negative target",
       [=] { sigmoid_cross_entropy(logits, with(targets, 0, 0, -0.25f)); }, Expect::value_error,
       "targets contain -0.25"},
      {"sigmoid_cross_entropy_backward NaN grad_output",
       [=] { sigmoid_cross_entropy_backward(not_a_number, logits, targets); }, Expect::value_error,
       "sigmoid_cross_entropy_backward: grad_output is nan"},
      {"sigmoid_cross_entropy_backward shapes",
       [=] { sigmoid_cross_entropy_backward(1.0f, logits, full({2, 2}, 0.0f)); },
       Expect::shape_error, "[2, 2]"},
      {"sigmoid_cross_entropy_backward grad_output of two elements",
       [=] { sigmoid_cross_entropy_backward(full({2, 1}, 1.0f), logits, targets); },
       Expect::shape_error,
       "sigmoid_cross_entropy_backward: grad_output must be a scalar or have one element, but "
       "its shape is [2, 1]"},
      {"sigmoid_cross_entropy graph target NaN",
       [=] { sigmoid_cross_entropy(logits_variable, with(targets, 0, 1, not_a_number)); },
       Expect::value_error, "targets contain nan"},

      {"mean_squared_error shapes", [=] { mean_squared_error(logits, full({6}, 0.0f)); },
       Expect::shape_error, "[6]"},
      {"mean_squared_error empty",
       [=] {
         mean_squared_error(full({2, 0}, 0.0f), full({2, 0}, 0.0f));
       },
       Expect::shape_error, "are empty (shape [2, 0])"},
      {"mean_squared_error NaN prediction",
       [=] { mean_squared_error(with(logits, 0, 0, not_a_number), targets); }, Expect::value_error,
       "mean_squared_error: predictions contain nan at [0, 0]"},
      {"mean_squared_error inf target",
       [=] { mean_squared_error(logits, with(targets, 1, 2, -infinity)); }, Expect::value_error,
       "contain -inf"},
      {"mean_squared_error_backward inf grad_output",
       [=] { mean_squared_error_backward(-infinity, logits, targets); }, Expect::value_error,
       "mean_squared_error_backward: grad_output is -inf"},
      {"mean_squared_error_backward grad_output of two elements",
       [=] { mean_squared_error_backward(full({1, 2}, 1.0f), logits, targets); },
       Expect::shape_error, "its shape is [1, 2]"},
      {"mean_squared_error graph shapes",
       [=] { mean_squared_error(logits_variable, full({3}, 0.0f)); }, Expect::shape_error, "[3]"},
  });
}

TEST_CASE("bad input layers") {
  Linear<float> layer(3, 2);
  Linear<float> no_bias(3, 2, /*bias=*/false);
  Sequential<float> model(Linear<float>(3, 2), ReLU<float>());

  check_rows({
      {"Linear 0 in_features", [] { Linear<float>(0, 2); }, Expect::value_error,
       "Linear: in_features and out_features must be positive, got in_features=0, out_features=2"},
      {"Linear 0 out_features", [] { Linear<double>(3, 0); }, Expect::value_error,
       "out_features=0"},
      {"Linear forward in_features",
       [&] {
         layer(parameter({4, 4}));
       },
       Expect::shape_error, "linear: x is [4, 4] and weight is [2, 3]"},
      {"Linear forward 1-D", [&] { layer(parameter({3})); }, Expect::shape_error,
       "linear: x must be 2-D, but its shape is [3]"},
      {"Linear forward 3-D",
       [&] {
         layer(parameter({2, 2, 3}));
       },
       Expect::shape_error, "linear: x must be 2-D, but its shape is [2, 2, 3]"},
      {"Linear forward NaN", in_anomaly_mode([&] {
         layer(parameter({2, 3}, not_a_number));
       }),
       Expect::anomaly_error, "op 'linear' produced NaN"},
      {"Linear::bias without one", [&] { no_bias.bias(); }, Expect::graph_error,
       "Linear::bias: this layer was built with bias = false"},
      {"Dropout negative p", [] { Dropout<float>(-0.1); }, Expect::value_error,
       "Dropout: p must be in [0, 1], got -0.100000"},
      {"Dropout p above 1", [] { Dropout<float>(1.5); }, Expect::value_error, "got 1.500000"},
      {"Dropout NaN p", [] { Dropout<double> dropout(not_a_number); }, Expect::value_error,
       "got nan"},
      {"ReLU module NaN", in_anomaly_mode([] { ReLU<float>()(parameter({2}, not_a_number)); }),
       Expect::anomaly_error, "op 'relu' produced NaN"},
      {"Sigmoid module NaN",
       in_anomaly_mode([] { Sigmoid<float>()(parameter({2}, not_a_number)); }),
       Expect::anomaly_error, "op 'sigmoid' produced NaN"},
      {"Tanh module NaN", in_anomaly_mode([] { Tanh<float>()(parameter({2}, not_a_number)); }),
       Expect::anomaly_error, "op 'tanh' produced NaN"},
      {"Flatten module 1-D", [] { Flatten<float>()(parameter({4})); }, Expect::shape_error,
       "flatten: x must have a batch dimension and at least one more, but it is shaped [4]"},
      {"Sequential forward shapes",
       [&] {
         model(parameter({2, 5}));
       },
       Expect::shape_error, "linear: x is [2, 5] and weight is [2, 3]"},
      {"Sequential index", [&] { model[2]; }, Expect::value_error,
       "Sequential: index 2 is out of range for 2 layers"},
      {"Sequential null module", [&] { model.push_back(std::shared_ptr<Module<float>>()); },
       Expect::value_error, "Sequential::push_back: the module is null"},
      {"register_parameter name taken",
       [] {
         OpenModule module;
         module.register_parameter("w", full({2}, 1.0f));
         module.register_parameter("w", full({3}, 1.0f));
       },
       Expect::value_error,
       "Module::register_parameter: the name 'w' is already registered in this module"},
      {"register_parameter dotted name",
       [] { OpenModule().register_parameter("layer.w", full({2}, 1.0f)); }, Expect::value_error,
       "Module::register_parameter: the name 'layer.w' contains '.'"},
      {"register_module null child",
       [] { OpenModule().register_module("encoder", nullptr); }, Expect::value_error,
       "Module::register_module: the child 'encoder' is null"},
      {"register_module name of a parameter",
       [] {
         OpenModule module;
         module.register_parameter("w", full({2}, 1.0f));
         module.register_module("w", std::make_shared<ReLU<float>>());
       },
       Expect::value_error,
       "Module::register_module: the name 'w' is already registered in this module"},
      {"register_module dotted name",
       [] { OpenModule().register_module("a.b", std::make_shared<ReLU<float>>()); },
       Expect::value_error, "Module::register_module: the name 'a.b' contains '.'"},

      {"compute_fans 1-D", [] { compute_fans(full({3}, 0.0f)); }, Expect::shape_error,
       "compute_fans: a weight needs at least 2 dimensions to have fans, but it is [3]"},
      {"kaiming_uniform fan 0",
       [] {
         Tensor<float> weight = full({3, 0}, 0.0f);
         Generator generator(1);
         kaiming_uniform(weight, generator);
       },
       Expect::shape_error, "kaiming_uniform: the weight shaped [3, 0] has a fan of 0"},
      {"kaiming_normal fan_out 0",
       [] {
         Tensor<float> weight = full({0, 3}, 0.0f);
         Generator generator(1);
         kaiming_normal(weight, generator, 0.0, FanMode::fan_out);
       },
       Expect::shape_error, "kaiming_normal: the weight shaped [0, 3] has a fan of 0"},
      {"kaiming_uniform NaN negative_slope",
       [] {
         Tensor<float> weight = full({2, 3}, 0.0f);
         Generator generator(1);
         kaiming_uniform(weight, generator, not_a_number);
       },
       Expect::value_error, "kaiming_uniform: negative_slope must be finite, got nan"},
      {"xavier_uniform infinite gain",
       [] {
         Tensor<float> weight = full({2, 3}, 0.0f);
         Generator generator(1);
         xavier_uniform(weight, generator, infinity);
       },
       Expect::value_error, "xavier_uniform: gain must be finite and >= 0, got inf"},
      {"xavier_uniform negative gain",
       [] {
         Tensor<double> weight = full<double>({2, 3}, 0.0);
         Generator generator(1);
         xavier_uniform(weight, generator, -1.0);
       },
       Expect::value_error, "xavier_uniform: gain must be finite and >= 0, got -1"},
      {"xavier_normal NaN gain",
       [] {
         Tensor<float> weight = full({2, 3}, 0.0f);
         Generator generator(1);
         xavier_normal(weight, generator, not_a_number);
       },
       Expect::value_error, "xavier_normal: gain must be finite and >= 0, got nan"},
      {"xavier_normal gain beyond float",
       [] {
         Tensor<float> weight = full({2, 3}, 0.0f);
         Generator generator(1);
         xavier_normal(weight, generator, 1e300);
       },
       Expect::value_error, "(from gain 1e+300) gives samples up to"},
      {"xavier_uniform empty weight",
       [] {
         Tensor<float> weight = full({0, 0}, 0.0f);
         Generator generator(1);
         xavier_uniform(weight, generator);
       },
       Expect::shape_error, "xavier_uniform: the weight shaped [0, 0] has fan_in + fan_out = 0"},
      {"uniform bounds out of order",
       [] {
         Tensor<float> tensor = full({2}, 0.0f);
         Generator generator(1);
         uniform(tensor, generator, 1.0, -1.0);
       },
       Expect::value_error,
       "uniform: low and high must be finite with low <= high, got low=1, high=-1"},
      {"uniform of doubles with an overflowing width",
       [] {
         Tensor<double> tensor = full<double>({2}, 0.0);
         Generator generator(1);
         uniform(tensor, generator, -1e308, 1e308);
       },
       Expect::value_error,
       "Generator::uniform: low and high must be finite with low <= high and a finite "
       "difference, got low=-1e+308, high=1e+308"},
      {"uniform bounds beyond float",
       [] {
         Tensor<float> tensor = full({2}, 0.0f);
         Generator generator(1);
         uniform(tensor, generator, -1e300, 1e300);
       },
       Expect::value_error,
       "uniform: the range [-1e+300, 1e+300) gives samples up to 1e+300, beyond the largest "
       "float"},
  });
}

TEST_CASE("bad input optimizers") {
  const auto parameters = [] { return std::vector<Variable<float>>{parameter({2, 2})}; };
  const auto with_gradient = [](float value) {
    Variable<float> weight = parameter({2, 2});
    weight.mutable_grad().fill(1.0f);
    weight.mutable_grad()(1, 0) = value;
    return std::vector<Variable<float>>{parameter({3}), weight};
  };
  // A 2 x 2 tensor of zeros with `value` at flat index 2, as optimizer state.
  const auto state_with = [](float value) {
    Tensor<float> state = full({2, 2}, 0.0f);
    state(1, 0) = value;
    return state;
  };
  const Variable<float> shared = parameter({2});

  check_rows({
      {"SGD without parameters", [] { SGD<float>(std::vector<Variable<float>>{}, 0.1); },
       Expect::value_error, "Optimizer: got no parameters"},
      {"Adam with a parameter twice",
       [=] { Adam<float>({parameter({3}), shared, shared}, 0.1); }, Expect::value_error,
       "Optimizer: parameter 2 is the same variable as parameter 1"},
      {"SGD negative learning rate", [=] { SGD<float>(parameters(), -0.1); }, Expect::value_error,
       "Optimizer: learning rate must be finite and >= 0, got -0.1"},
      {"SGD NaN learning rate", [=] { SGD<float>(parameters(), not_a_number); },
       Expect::value_error, "got nan"},
      {"SGD infinite learning rate", [=] { SGD<float>(parameters(), infinity); },
       Expect::value_error, "got inf"},
      {"SGD NaN momentum", [=] { SGD<float>(parameters(), 0.1, {.momentum = not_a_number}); },
       Expect::value_error, "SGD: momentum must be finite and >= 0, got nan"},
      {"SGD dampening above 1", [=] { SGD<float>(parameters(), 0.1, {.dampening = 2.0}); },
       Expect::value_error, "SGD: dampening must be in [0, 1], got 2"},
      {"SGD NaN dampening", [=] { SGD<float>(parameters(), 0.1, {.dampening = not_a_number}); },
       Expect::value_error, "dampening must be in [0, 1], got nan"},
      {"SGD infinite weight decay",
       [=] { SGD<float>(parameters(), 0.1, {.weight_decay = infinity}); }, Expect::value_error,
       "SGD: weight_decay must be finite and >= 0, got inf"},
      {"SGD Nesterov without momentum", [=] { SGD<float>(parameters(), 0.1, {.nesterov = true}); },
       Expect::value_error,
       "Nesterov momentum needs momentum > 0 and dampening = 0, got momentum=0"},
      {"Adam beta1 of 1", [=] { Adam<float>(parameters(), 0.1, {.beta1 = 1.0}); },
       Expect::value_error, "Adam: beta1 must be in [0, 1), got 1"},
      {"Adam NaN beta2", [=] { Adam<float>(parameters(), 0.1, {.beta2 = not_a_number}); },
       Expect::value_error, "Adam: beta2 must be in [0, 1), got nan"},
      {"Adam eps 0", [=] { Adam<float>(parameters(), 0.1, {.eps = 0.0}); }, Expect::value_error,
       "Adam: eps must be finite and > 0, got 0"},
      {"Adam NaN learning rate", [=] { Adam<float>(parameters(), not_a_number); },
       Expect::value_error, "learning rate must be finite and >= 0, got nan"},
      {"AdamW negative weight decay",
       [=] { AdamW<float>(parameters(), 0.1, {.weight_decay = -1.0}); }, Expect::value_error,
       "AdamW: weight_decay must be finite and >= 0, got -1"},
      {"set_learning_rate NaN",
       [=] { SGD<float>(parameters(), 0.1).set_learning_rate(not_a_number); }, Expect::value_error,
       "learning rate must be finite and >= 0, got nan"},

      {"SGD step NaN gradient", [=] { SGD<float>(with_gradient(not_a_number), 0.1).step(); },
       Expect::value_error,
       "SGD::step: the gradient of parameter 1, shaped [2, 2], is nan at flat index 2"},
      {"SGD momentum step inf gradient",
       [=] { SGD<float>(with_gradient(-infinity), 0.1, {.momentum = 0.9}).step(); },
       Expect::value_error, "is -inf at flat index 2"},
      {"Adam step NaN gradient", [=] { Adam<float>(with_gradient(not_a_number), 0.1).step(); },
       Expect::value_error,
       "Adam::step: the gradient of parameter 1, shaped [2, 2], is nan at flat index 2"},
      {"AdamW step inf gradient", [=] { AdamW<float>(with_gradient(infinity), 0.1).step(); },
       Expect::value_error, "AdamW::step: the gradient of parameter 1, shaped [2, 2], is inf"},
      {"SGD load_state unknown name",
       [=] {
         SGD<float>(parameters(), 0.1).load_state({{"velocity.0", full({2, 2}, 0.0f)}}, 1, 0.1);
       },
       Expect::value_error, "unexpected state 'velocity.0'"},
      {"SGD load_state shape",
       [=] {
         SGD<float>(parameters(), 0.1).load_state({{"momentum_buffer.0", full({3}, 0.0f)}}, 1, 0.1);
       },
       Expect::value_error, "'momentum_buffer.0' is [3] but parameter 0 is [2, 2]"},
      {"SGD load_state NaN momentum buffer",
       [=] {
         SGD<float>(parameters(), 0.1, {.momentum = 0.9})
             .load_state({{"momentum_buffer.0", state_with(not_a_number)}}, 1, 0.1);
       },
       Expect::value_error,
       "SGD::load_state: state 'momentum_buffer.0' contains nan at flat index 2"},
      {"Adam load_state infinite exp_avg",
       [=] {
         Adam<float>(parameters(), 0.1)
             .load_state({{"exp_avg.0", state_with(-infinity)},
                          {"exp_avg_sq.0", full({2, 2}, 0.0f)},
                          {"step.0", full({1}, 1.0f)}},
                         1, 0.1);
       },
       Expect::value_error, "Adam::load_state: state 'exp_avg.0' contains -inf at flat index 2"},
      {"Adam load_state NaN exp_avg_sq",
       [=] {
         Adam<float>(parameters(), 0.1)
             .load_state({{"exp_avg.0", full({2, 2}, 0.0f)},
                          {"exp_avg_sq.0", state_with(not_a_number)},
                          {"step.0", full({1}, 1.0f)}},
                         1, 0.1);
       },
       Expect::value_error, "Adam::load_state: state 'exp_avg_sq.0' contains nan at flat index 2"},
      {"AdamW load_state negative exp_avg_sq",
       [=] {
         AdamW<float>(parameters(), 0.1)
             .load_state({{"exp_avg.0", full({2, 2}, 0.0f)},
                          {"exp_avg_sq.0", state_with(-0.5f)},
                          {"step.0", full({1}, 1.0f)}},
                         1, 0.1);
       },
       Expect::value_error,
       "AdamW::load_state: state 'exp_avg_sq.0' contains -0.5 at flat index 2; every element "
       "must be finite and >= 0"},
      {"Adam load_state infinite step",
       [=] {
         Adam<float>(parameters(), 0.1)
             .load_state({{"exp_avg.0", full({2, 2}, 0.0f)},
                          {"exp_avg_sq.0", full({2, 2}, 0.0f)},
                          {"step.0", full({1}, infinity)}},
                         1, 0.1);
       },
       Expect::value_error, "Adam::load_state: state 'step.0' is inf"},
      {"Adam load_state fractional step",
       [=] {
         Adam<float>(parameters(), 0.1)
             .load_state({{"exp_avg.0", full({2, 2}, 0.0f)},
                          {"exp_avg_sq.0", full({2, 2}, 0.0f)},
                          {"step.0", full({1}, 2.5f)}},
                         1, 0.1);
       },
       Expect::value_error, "Adam::load_state: state 'step.0' is 2.5"},
      {"Adam load_state step of two elements",
       [=] {
         Adam<float>(parameters(), 0.1)
             .load_state({{"exp_avg.0", full({2, 2}, 0.0f)},
                          {"exp_avg_sq.0", full({2, 2}, 0.0f)},
                          {"step.0", full({2}, 1.0f)}},
                         1, 0.1);
       },
       Expect::value_error, "Adam::load_state: state 'step.0' is shaped [2]"},
      {"Adam load_state step of an unknown parameter",
       [=] { Adam<float>(parameters(), 0.1).load_state({{"step.4", full({1}, 1.0f)}}, 1, 0.1); },
       Expect::value_error, "Adam::load_state: unexpected state 'step.4'"},
      {"Adam load_state NaN learning rate",
       [=] { Adam<float>(parameters(), 0.1).load_state({}, 1, not_a_number); }, Expect::value_error,
       "learning rate must be finite and >= 0, got nan"},

      {"StepLR step_size 0",
       [=] {
         SGD<float> optimizer(parameters(), 0.1);
         StepLR<float>(optimizer, 0);
       },
       Expect::value_error, "StepLR: step_size must be at least 1, got 0"},
      {"StepLR NaN gamma",
       [=] {
         SGD<float> optimizer(parameters(), 0.1);
         StepLR<float>(optimizer, 2, not_a_number);
       },
       Expect::value_error, "StepLR: gamma must be finite and >= 0, got nan"},
      {"CosineAnnealingLR t_max 0",
       [=] {
         SGD<float> optimizer(parameters(), 0.1);
         CosineAnnealingLR<float>(optimizer, 0);
       },
       Expect::value_error, "CosineAnnealingLR: t_max must be at least 1, got 0"},
      {"CosineAnnealingLR negative eta_min",
       [=] {
         SGD<float> optimizer(parameters(), 0.1);
         CosineAnnealingLR<float>(optimizer, 5, -1.0);
       },
       Expect::value_error, "eta_min must be finite and >= 0, got -1.000000"},
      {"LRScheduler::restore NaN base rate",
       [=] {
         SGD<float> optimizer(parameters(), 0.1);
         StepLR<float>(optimizer, 2).restore(3, not_a_number);
       },
       Expect::value_error, "learning rate must be finite and >= 0, got nan"},

      {"clip_grad_norm negative max_norm", [=] { clip_grad_norm(parameters(), -1.0); },
       Expect::value_error, "clip_grad_norm: max_norm must be >= 0, got -1.000000"},
      {"clip_grad_norm NaN max_norm", [=] { clip_grad_norm(parameters(), not_a_number); },
       Expect::value_error, "max_norm must be >= 0, got nan"},
      {"clip_grad_norm NaN gradient", [=] { clip_grad_norm(with_gradient(not_a_number), 1.0); },
       Expect::value_error, "clip_grad_norm: the gradient norm is nan"},
      {"clip_grad_norm inf gradient", [=] { clip_grad_norm(with_gradient(infinity), 1.0); },
       Expect::value_error, "the gradient norm is inf"},
      {"clip_grad_value negative", [=] { clip_grad_value(parameters(), -0.5); },
       Expect::value_error, "clip_grad_value: clip_value must be >= 0, got -0.500000"},
      {"clip_grad_value NaN", [=] { clip_grad_value(parameters(), not_a_number); },
       Expect::value_error, "clip_value must be >= 0, got nan"},
  });
}

TEST_CASE("bad input leaves optimizers unchanged") {
  // A step that throws must not have updated any parameter, and a failed
  // restore must leave the schedule and the learning rate as they were.
  Variable<float> first = parameter({2}, 1.0f);
  first.mutable_grad().fill(0.5f);
  Variable<float> second = parameter({2}, 1.0f);
  second.mutable_grad().fill(not_a_number);
  Adam<float> adam({first, second}, 0.1);
  CHECK_THROWS_AS(adam.step(), ValueError);
  CHECK(first.value()(0) == 1.0f);
  CHECK(adam.step_count() == 0);

  SGD<float> sgd({first}, 0.1);
  StepLR<float> scheduler(sgd, 1, 0.5);
  scheduler.step();
  CHECK_THROWS_AS(scheduler.restore(4, not_a_number), ValueError);
  CHECK(scheduler.epoch() == 1);
  CHECK(scheduler.base_learning_rate() == 0.1);
  CHECK(sgd.learning_rate() == doctest::Approx(0.05));
}

TEST_CASE("bad input readers") {
  TemporaryDirectory folder;
  const std::string directory = folder.path().string();
  const std::string missing = folder.file("missing");
  const std::string truncated = folder.file("truncated");
  write_file_bytes(truncated, idx_file({3, 2, 5}, std::vector<std::uint8_t>(29)));
  const std::string cut_safetensors = folder.file("cut");
  std::uint64_t cut_header_length = 0;  // from the little-endian length field
  {
    SafetensorsContents contents;
    contents.tensors["weight"] = full({4, 4}, 1.0f);
    const std::string bytes = serialize_safetensors(contents);
    for (int i = 7; i >= 0; --i) {
      cut_header_length = (cut_header_length << 8) | static_cast<unsigned char>(bytes[i]);
    }
    write_file_bytes(cut_safetensors, bytes.substr(0, 40));
  }

  const std::string wrong_images = folder.file("wrong_images");
  write_fashion_mnist(wrong_images, 2, 28, 27, {0, 1});
  const std::string bad_label = folder.file("bad_label");
  write_fashion_mnist(bad_label, 2, 28, 28, {0, 10});
  const std::string count_mismatch = folder.file("count_mismatch");
  write_fashion_mnist(count_mismatch, 2, 28, 28, {0, 1, 2});

  const Tensor<std::uint8_t> images = Tensor<std::uint8_t>::from_shape({2, 28, 28});
  const Tensor<std::uint8_t> labels = {3, 7};

  check_rows({
      {"read_idx missing file", [=] { read_idx(missing); }, Expect::file_error,
       "read_idx: cannot open " + missing + ": No such file or directory"},
      {"read_idx directory", [=] { read_idx(directory); }, Expect::file_error,
       "read_idx: " + directory + " is a directory, not an IDX file"},
      {"read_idx truncated data", [=] { read_idx(truncated); }, Expect::file_error,
       "truncated data: the sizes [3, 2, 5] need 30 data bytes after the 16-byte header, got 29"},
      {"parse_idx empty input", [] { parse_idx(nullptr, 0, "input"); }, Expect::file_error,
       "parse_idx: input: truncated header: expected 4 header bytes, got 0"},
      {"parse_idx signed bytes",
       [] {
         const std::uint8_t bytes[] = {0, 0, 0x09, 1, 0, 0, 0, 1, 7};
         parse_idx(bytes, sizeof bytes, "input");
       },
       Expect::file_error, "unsupported type code 0x09 (signed byte)"},

      {"load_fashion_mnist missing directory", [=] { load_fashion_mnist(missing); },
       Expect::file_error, "read_idx: cannot open " + missing + "/train-images-idx3-ubyte.gz"},
      {"load_fashion_mnist file path", [=] { load_fashion_mnist(truncated); }, Expect::file_error,
       "read_idx: cannot open " + truncated + "/train-images-idx3-ubyte.gz: Not a directory"},
      {"load_fashion_mnist image shape", [=] { load_fashion_mnist(wrong_images); },
       Expect::file_error, "images must be [N, 28, 28], got [2, 28, 27]"},
      {"load_fashion_mnist label 10", [=] { load_fashion_mnist(bad_label); }, Expect::file_error,
       "label 10 at position 1 is out of range"},
      {"load_fashion_mnist label count", [=] { load_fashion_mnist(count_mismatch); },
       Expect::file_error, "contains 3 labels, but"},
      {"gather_images 2-D images",
       [] {
         Tensor<float> batch;
         gather_images(Tensor<std::uint8_t>::from_shape({2, 784}), {0}, batch);
       },
       Expect::shape_error, "gather_images: images must be 3-D, but its shape is [2, 784]"},
      {"gather_images index",
       [=] {
         Tensor<float> batch;
         gather_images(images, {1, 2}, batch);
       },
       Expect::value_error, "gather_images: index 2 at position 1 is out of range for 2 samples"},
      {"gather_labels 2-D labels",
       [] {
         Tensor<std::int64_t> batch;
         gather_labels(Tensor<std::uint8_t>::from_shape({2, 1}), {0}, batch);
       },
       Expect::shape_error, "gather_labels: labels must be 1-D, but its shape is [2, 1]"},
      {"gather_labels index",
       [=] {
         Tensor<std::int64_t> batch;
         gather_labels(labels, {5}, batch);
       },
       Expect::value_error, "gather_labels: index 5 at position 0 is out of range for 2 samples"},
      {"BatchLoader batch_size 0", [] { BatchLoader(10, 0, false, 1); }, Expect::value_error,
       "BatchLoader: batch_size must be at least 1, got 0"},
      {"BatchLoader next_batch before start_epoch",
       [] {
         std::vector<std::size_t> indices;
         BatchLoader(10, 2, true, 1).next_batch(indices);
       },
       Expect::value_error, "no epoch was started"},

      {"parse_safetensors empty", [] { parse_safetensors("", "input"); }, Expect::file_error,
       "parse_safetensors: 'input': the file is 0 bytes"},
      {"parse_safetensors zero-size shape that overflows",
       [] {
         const std::string header =
             R"({"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})";
         std::string bytes(8, '\0');
         bytes[0] = static_cast<char>(header.size());
         parse_safetensors(bytes + header, "input");
       },
       Expect::file_error, "shape [0, 4294967296, 4294967296] is too large"},
      {"load_safetensors missing file", [=] { load_safetensors(missing); }, Expect::file_error,
       "load_safetensors: '" + missing + "': cannot open the file: No such file or directory"},
      {"load_safetensors directory", [=] { load_safetensors(directory); }, Expect::file_error,
       "load_safetensors: '" + directory + "': it is a directory"},
      {"load_safetensors cut-off file", [=] { load_safetensors(cut_safetensors); },
       Expect::file_error,
       "load_safetensors: '" + cut_safetensors + "': the header length " +
           std::to_string(cut_header_length) + " runs past the end of the 40-byte file"},
      {"save_safetensors directory", [=] { save_safetensors(directory, {}); }, Expect::file_error,
       "write_file_atomically: cannot write '" + directory + "': it names a directory"},
      {"save_safetensors missing directory", [=] { save_safetensors(missing + "/x", {}); },
       Expect::file_error,
       "cannot write '" + missing + "/x': creating a temporary file in directory '" + missing +
           "' failed: No such file or directory"},
      {"serialize_safetensors reserved name",
       [] {
         SafetensorsContents contents;
         contents.tensors["__metadata__"] = full({1}, 0.0f);
         serialize_safetensors(contents);
       },
       Expect::value_error, "a tensor is named \"__metadata__\""},
      {"serialize_safetensors invalid UTF-8 name",
       [] {
         SafetensorsContents contents;
         contents.tensors["bad\xff"] = full({1}, 0.0f);
         serialize_safetensors(contents);
       },
       Expect::value_error, "serialize_safetensors: tensor name \"bad"},
      {"serialize_safetensors invalid UTF-8 metadata",
       [] {
         SafetensorsContents contents;
         contents.metadata["note"] = "\xc3";
         serialize_safetensors(contents);
       },
       Expect::value_error, "of key \"note\" is not valid UTF-8"},
  });
}

TEST_CASE("bad input checkpoints") {
  TemporaryDirectory folder;
  const std::string directory = folder.path().string();
  const std::string missing = folder.file("missing.safetensors");
  const std::string module_path = folder.file("module.safetensors");
  const std::string training_path = folder.file("training.safetensors");

  Generator generator(5);
  Linear<float> model(3, 2, true, generator);
  save(module_path, model);

  // A training checkpoint with an SGD momentum buffer and a StepLR schedule.
  {
    SGD<float> optimizer(model.parameters(), 0.1, {.momentum = 0.9});
    StepLR<float> scheduler(optimizer, 2);
    for (Variable<float> trained : model.parameters()) trained.mutable_grad().fill(0.5f);
    optimizer.step();
    scheduler.step();
    save(training_path, model, TrainingState<float>{&optimizer, &scheduler, &generator, 1});
  }

  // Copies of the training checkpoint, each with one value changed.
  const auto variant = [&](const std::string& name, const std::string& key,
                           const std::string& value) {
    SafetensorsContents contents = load_safetensors(training_path);
    contents.metadata[key] = value;
    save_safetensors(folder.file(name), contents);
    return folder.file(name);
  };
  const std::string nan_rate = variant("nan_rate", "tapegrad.optimizer.learning_rate", "nan");
  const std::string negative_base =
      variant("negative_base", "tapegrad.scheduler.base_learning_rate", "-0.5");
  const std::string bad_epoch = variant("bad_epoch", "tapegrad.epoch", "-3");
  const std::string bad_generator = variant("bad_generator", "tapegrad.generator", "garbage");
  std::string wrong_buffer = folder.file("wrong_buffer");
  {
    SafetensorsContents contents = load_safetensors(training_path);
    contents.tensors["optimizer.momentum_buffer.0"] = full({3, 2}, 0.0f);
    save_safetensors(wrong_buffer, contents);
  }

  const auto load_training = [](const std::string& path) {
    Linear<float> target(3, 2);
    SGD<float> optimizer(target.parameters(), 0.1, {.momentum = 0.9});
    StepLR<float> scheduler(optimizer, 2);
    Generator target_generator(1);
    TrainingState<float> state{&optimizer, &scheduler, &target_generator, 0};
    load(path, target, state);
  };

  check_rows({
      {"save to a directory", [&] { save(directory, model); }, Expect::file_error,
       "write_file_atomically: cannot write '" + directory + "': it names a directory"},
      {"save training state to a directory",
       [&] { save(directory, model, TrainingState<float>{}); }, Expect::file_error,
       "write_file_atomically: cannot write '" + directory + "': it names a directory"},
      {"save into a missing directory", [&] { save(missing + "/model", model); },
       Expect::file_error,
       "cannot write '" + missing + "/model': creating a temporary file in directory '" +
           missing + "' failed: No such file or directory"},
      {"load missing file",
       [=] {
         Linear<float> target(3, 2);
         load(missing, target);
       },
       Expect::file_error, "load_safetensors: '" + missing + "': cannot open the file"},
      {"load directory",
       [=] {
         Linear<float> target(3, 2);
         load(directory, target);
       },
       Expect::file_error, "load_safetensors: '" + directory + "': it is a directory"},
      {"load wrong shapes",
       [=] {
         Linear<float> target(4, 2);
         load(module_path, target);
       },
       Expect::file_error, "'weight' is [2, 3] but the parameter is [2, 4]"},
      {"load wrong dtype",
       [=] {
         Linear<double> target(3, 2);
         load(module_path, target);
       },
       Expect::file_error, "'weight' is F32 but the parameter is F64"},
      {"load missing bias",
       [=] {
         Linear<float> target(3, 2, /*bias=*/false);
         load(module_path, target);
       },
       Expect::file_error, "unexpected 'bias'"},
      {"load training state from a module checkpoint", [=] { load_training(module_path); },
       Expect::file_error, "load: " + module_path + " is not a training checkpoint"},
      {"load NaN learning rate", [=] { load_training(nan_rate); }, Expect::file_error,
       "metadata 'tapegrad.optimizer.learning_rate' is 'nan', but a learning rate must be finite"},
      {"load negative scheduler base rate", [=] { load_training(negative_base); },
       Expect::file_error, "metadata 'tapegrad.scheduler.base_learning_rate' is '-0.5'"},
      {"load invalid epoch", [=] { load_training(bad_epoch); }, Expect::file_error,
       "no valid metadata 'tapegrad.epoch' (found '-3')"},
      {"load invalid generator state", [=] { load_training(bad_generator); }, Expect::file_error,
       "invalid generator state: Generator::set_state: the text 'garbage' (7 characters)"},
      {"load wrong optimizer state shape", [=] { load_training(wrong_buffer); }, Expect::file_error,
       "'momentum_buffer.0' is [3, 2] but parameter 0 is [2, 3]"},
  });
}

TEST_CASE("edge input gives results without NaN") {
  const Variable<double> empty_rows(Tensor<double>::from_shape({0, 3}), true);
  const Variable<double> empty_columns(Tensor<double>::from_shape({2, 0}), true);
  const Variable<double> weight(full<double>({4, 3}, 0.5), true);
  const Variable<double> bias(full<double>({4}, 0.25), true);
  const Tensor<float> large_logits = {{1e30f, -1e30f, 0.0f}, {-3e38f, 3e38f, 1.0f}};

  check_edges({
      {"sum of empty", [=] { return sum(empty_rows).value(); }, "[]"},
      {"sum of empty along an axis", [=] { return sum(empty_rows, 0).value(); }, "[3]"},
      {"mean along a non-empty axis of empty", [=] { return mean(empty_rows, 1).value(); }, "[0]"},
      {"add of empty", [=] { return add(empty_rows, empty_rows).value(); }, "[0, 3]"},
      {"mul of empty by a scalar", [=] { return mul(empty_rows, 2.0).value(); }, "[0, 3]"},
      {"exp, log, pow of empty", [=] { return pow(log(exp(empty_rows)), 2).value(); }, "[0, 3]"},
      {"relu, sigmoid, tanh of empty", [=] { return tanh(sigmoid(relu(empty_rows))).value(); },
       "[0, 3]"},
      {"matmul with inner size 0",
       [=] {
         return matmul(empty_columns, Variable<double>(full<double>({0, 4}, 1.0))).value();
       },
       "[2, 4]"},
      {"matmul of an empty batch", [=] { return matmul(empty_rows, transpose(weight)).value(); },
       "[0, 4]"},
      {"linear of an empty batch", [=] { return linear(empty_rows, weight, bias).value(); },
       "[0, 4]"},
      {"transpose of empty", [=] { return transpose(empty_rows).value(); }, "[3, 0]"},
      {"reshape of empty",
       [=] {
         return reshape(empty_rows, {3, 0, 5}).value();
       },
       "[3, 0, 5]"},
      {"flatten of empty",
       [] {
         return flatten(Variable<double>(Tensor<double>::from_shape({0, 2, 2}))).value();
       },
       "[0, 4]"},
      {"softmax of empty rows", [=] { return softmax(empty_columns).value(); }, "[2, 0]"},
      {"log_softmax of an empty batch", [=] { return log_softmax(empty_rows).value(); }, "[0, 3]"},
      {"softmax with -inf entries",
       [] {
         return softmax(Variable<double>(Tensor<double>{{-infinity, 0.0}})).value();
       },
       "[1, 2]"},
      {"gradient through an empty batch",
       [=] {
         sum(linear(empty_rows, weight, bias)).backward();
         return weight.grad();
       },
       "[4, 3]"},
      {"gradient of empty input",
       [=] {
         sum(mul(empty_rows, 3.0)).backward();
         return empty_rows.grad();
       },
       "[0, 3]"},
      {"Linear of an empty batch",
       [] {
         return as_double(Linear<float>(3, 2)(Variable<float>(full({0, 3}, 0.0f))).value());
       },
       "[0, 2]"},
      {"Dropout of empty",
       [] {
         return as_double(Dropout<float>(0.5)(Variable<float>(full({0, 3}, 0.0f))).value());
       },
       "[0, 3]"},
      {"Dropout with p = 1",
       [] {
         return as_double(Dropout<float>(1.0)(Variable<float>(full({2, 3}, 1.0f))).value());
       },
       "[2, 3]"},
      {"clip_grad_norm without gradients",
       [] { return scalar(clip_grad_norm<float>({parameter({2})}, 1.0)); }, "[]"},
      {"clip_grad_norm of zero gradients",
       [] {
         Variable<float> weight_zero = parameter({2});
         weight_zero.mutable_grad().fill(0.0f);
         clip_grad_norm<float>({weight_zero}, 0.0);
         return as_double(weight_zero.grad());
       },
       "[2]"},
      {"Adam step with zero gradients",
       [] {
         Variable<float> weight_zero = parameter({2});
         weight_zero.mutable_grad().fill(0.0f);
         Adam<float> optimizer({weight_zero}, 0.1, {.eps = 1e-30});
         optimizer.step();
         return as_double(weight_zero.value());
       },
       "[2]"},
      {"softmax_cross_entropy of large logits",
       [=] {
         return scalar(softmax_cross_entropy(large_logits, Tensor<float>{{0, 0, 1}, {1, 0, 0}}));
       },
       "[]"},
      {"sparse_softmax_cross_entropy_backward of large logits",
       [=] {
         return as_double(
             sparse_softmax_cross_entropy_backward(1.0f, large_logits, Tensor<int>{1, 0}));
       },
       "[2, 3]"},
      {"sigmoid_cross_entropy of infinite logits",
       [] {
         return scalar(
             sigmoid_cross_entropy(Tensor<float>{infinity, -infinity}, Tensor<float>{1, 0}));
       },
       "[]"},
      {"sigmoid_cross_entropy_backward of infinite logits",
       [] {
         return as_double(sigmoid_cross_entropy_backward(1.0f, Tensor<float>{infinity, -infinity},
                                                         Tensor<float>{0, 1}));
       },
       "[2]"},
      {"mean_squared_error_backward of large values",
       [] {
         return as_double(
             mean_squared_error_backward(1.0f, Tensor<float>{3e38f}, Tensor<float>{-3e38f}));
       },
       "[1]"},
      {"gather_images of no indices",
       [] {
         Tensor<float> batch;
         gather_images(Tensor<std::uint8_t>::from_shape({2, 28, 28}), {}, batch);
         return as_double(batch);
       },
       "[0, 784]"},
      {"BatchLoader of no samples",
       [] {
         BatchLoader loader(0, 4, true, 1);
         loader.start_epoch();
         std::vector<std::size_t> indices;
         const bool has_batch = loader.next_batch(indices);
         return scalar(has_batch ? 1.0 : 0.0);
       },
       "[]"},
      {"safetensors round trip of empty tensors",
       [] {
         SafetensorsContents contents;
         contents.tensors["empty"] = Tensor<double>::from_shape({0, 5});
         const SafetensorsContents parsed =
             parse_safetensors(serialize_safetensors(contents), "memory");
         return std::get<Tensor<double>>(parsed.tensors.at("empty"));
       },
       "[0, 5]"},
  });
}
