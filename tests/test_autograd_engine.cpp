// The autograd engine driven through real ops: shared variables, diamonds,
// accumulation, deep chains, memory, the no-grad guard, anomaly mode and the
// errors a caller can make.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <vector>

#include "tapegrad.hpp"

using namespace tapegrad;

namespace {

// Pages of resident memory, from /proc/self/statm; 0 where it is missing.
long resident_pages() {
  std::FILE* file = std::fopen("/proc/self/statm", "r");
  if (file == nullptr) return 0;
  long total = 0;
  long resident = 0;
  const int fields = std::fscanf(file, "%ld %ld", &total, &resident);
  std::fclose(file);
  return fields == 2 ? resident : 0;
}

// A node whose backward returns a gradient of the wrong shape: a bug that
// the engine must report rather than accumulate.
class WrongShapeNode : public Node<double> {
 public:
  static constexpr const char* kOp = "wrong_shape";

  void backward(const Tensor<double>&) override { accumulate(0, Tensor<double>{1.0, 2.0, 3.0}); }
};

}  // namespace

TEST_CASE("variable used twice") {
  // y = x·x + x at x = 3 is 12, and dy/dx = 2x + 1 = 7: both uses count.
  const Variable<double> x(Tensor<double>(3.0), true);
  const Variable<double> y = x * x + x;
  CHECK(y.value()() == 12);
  y.backward();
  CHECK(x.grad()() == 7);
}

TEST_CASE("intermediate used by three ops") {
  // h = 2x; y = sum(h) + sum(h·h) + sum(3h). dy/dh = 1 + 2h + 3, and
  // dy/dx = 2 · (4 + 2h) = 8 + 8x = [16, 24] at x = [1, 2].
  const Variable<double> x(Tensor<double>{1, 2}, true);
  const Variable<double> h = x * 2;
  const Variable<double> y = sum(h) + sum(h * h) + sum(h * 3);
  y.backward();
  CHECK(x.grad() == Tensor<double>{16, 24});
}

TEST_CASE("diamond graph") {
  // a = 3x and b = x² both come from x and meet in c = a·b = 3x³;
  // dc/dx = 9x² = 36 at x = 2.
  const Variable<double> x(Tensor<double>(2.0), true);
  const Variable<double> a = x * 3;
  const Variable<double> b = x * x;
  const Variable<double> c = a * b;
  c.backward();
  CHECK(c.value()() == 24);
  CHECK(x.grad()() == 36);
}

TEST_CASE("gradients accumulate until zero_grad") {
  Variable<double> x(Tensor<double>{1, 2}, true);

  SUBCASE("two backward calls over a retained graph") {
    // d sum(x²)/dx = 2x = [2, 4], twice.
    const Variable<double> y = sum(x * x);
    y.backward(/*retain_graph=*/true);
    y.backward();
    CHECK(x.grad() == Tensor<double>{4, 8});
  }
  SUBCASE("two forward passes") {
    sum(x * x).backward();
    sum(x * 3).backward();
    CHECK(x.grad() == Tensor<double>{5, 7});
  }

  x.zero_grad();
  CHECK_FALSE(x.has_grad());
  CHECK(x.grad() == Tensor<double>{0, 0});
  sum(x * x).backward();
  CHECK(x.has_grad());
  CHECK(x.grad() == Tensor<double>{2, 4});
}

TEST_CASE("zero_grad then backward overwrites the old gradient") {
  // The gradient is not read between zero_grad and backward, so its buffer
  // still contains the old values. Backward must write over them, not add.
  Variable<double> x(Tensor<double>{1, 2}, true);
  sum(x * 10.0).backward();
  x.zero_grad();
  sum(x * x).backward();
  CHECK(x.grad() == Tensor<double>{2, 4});
}

TEST_CASE("chain of 100000 nodes") {
  // Freeing or walking the graph recursively would use one stack frame per
  // node; these must run in loops.
  constexpr int kLength = 100000;
  const Variable<double> x(Tensor<double>(1.5), true);

  SUBCASE("backward, then destruction") {
    Variable<double> y = x;
    for (int i = 0; i < kLength; ++i) y = -y;  // an even number of negations
    y.backward();
    CHECK(x.grad()() == 1);
  }
  SUBCASE("backward with the graph retained, then destruction") {
    Variable<double> y = x;
    for (int i = 0; i < kLength; ++i) y = y + 1;
    y.backward(/*retain_graph=*/true);
    CHECK(y.value()() == 1.5 + kLength);
    CHECK(x.grad()() == 1);
  }
  SUBCASE("destruction without backward") {
    Variable<double> y = x;
    for (int i = 0; i < kLength; ++i) y = y * 1.0;
    CHECK(y.value()() == 1.5);
  }
}

TEST_CASE("forward passes without backward keep memory flat") {
  Tape tape;
  TapeScope scope(tape);
  Generator generator(71);
  const Variable<double> weight(generator.uniform_tensor<double>({8, 8}, -1.0, 1.0), true);
  const Variable<double> x(generator.uniform_tensor<double>({4, 8}, -1.0, 1.0));
  const auto forward = [&] { return mean(relu(linear(x, weight)) * 2); };

  // Warm up the allocator before measuring.
  for (int step = 0; step < 100; ++step) forward();
  const long pages_before = resident_pages();

  std::weak_ptr<Node<double>> first_node;
  std::size_t max_tape_size = 0;
  for (int step = 0; step < 10000; ++step) {
    const Variable<double> loss = forward();
    if (step == 0) first_node = loss.grad_fn();
    max_tape_size = std::max(max_tape_size, tape.size());
  }
  const long pages_after = resident_pages();

  // Each pass records 4 nodes, and all are freed with its result.
  CHECK(max_tape_size == 4);
  CHECK(tape.size() == 0);
  CHECK(first_node.expired());
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("resident memory not compared: AddressSanitizer holds freed memory in quarantine");
  (void)pages_before;
  (void)pages_after;
#else
  // 10,000 leaked passes would hold well over 10 MB (2,560 pages of 4 KiB).
  CAPTURE(pages_before);
  CAPTURE(pages_after);
  CHECK(pages_after - pages_before < 2560);
#endif
}

TEST_CASE("no-grad guard records nothing") {
  Tape tape;
  TapeScope scope(tape);
  const Variable<double> x(Tensor<double>{1, 2}, true);
  {
    NoGradGuard guard;
    CHECK_FALSE(is_grad_enabled());
    const Variable<double> y = relu(x * 2 + 1);
    CHECK(y.is_leaf());
    CHECK_FALSE(y.requires_grad());
    CHECK(tape.size() == 0);
    {
      NoGradGuard nested;
    }
    CHECK_FALSE(is_grad_enabled());
  }
  CHECK(is_grad_enabled());
  CHECK((x * 2).requires_grad());

  // The destructor restores recording when an exception leaves the scope.
  try {
    NoGradGuard guard;
    throw std::runtime_error("leaving the scope");
  } catch (const std::runtime_error&) {
  }
  CHECK(is_grad_enabled());
}

TEST_CASE("only the nodes the root depends on run") {
  const Variable<double> x(Tensor<double>{1, 2}, true);
  const Variable<double> used = x * 2;
  const Variable<double> side = x * 5;  // recorded on the same tape, not used by the loss
  sum(used).backward();

  CHECK(x.grad() == Tensor<double>{2, 2});
  CHECK_FALSE(side.has_grad());
  CHECK_FALSE(side.grad_fn()->released());

  // The side branch still has its graph and can run backward later.
  sum(side).backward();
  CHECK(x.grad() == Tensor<double>{7, 7});
}

TEST_CASE("anomaly mode names the op that made a NaN") {
  CHECK_FALSE(is_anomaly_enabled());
  const Variable<double> x(Tensor<double>{-1, 2}, true);

  // Without anomaly mode NaN flows on, as IEEE arithmetic does.
  CHECK(std::isnan(sum(log(x) * 2).value()()));

  DetectAnomalyGuard guard;
  CHECK_THROWS_WITH_AS(sum(log(x) * 2),
                       doctest::Contains("the forward of op 'log' produced NaN at flat index 0"),
                       AnomalyError);

  // d sqrt(x)/dx = 0.5 / sqrt(x) is inf at 0: the backward of pow is named.
  const Variable<double> zero(Tensor<double>{0, 4}, true);
  const Variable<double> root = sum(pow(zero, 0.5));
  CHECK_THROWS_WITH_AS(root.backward(),
                       doctest::Contains("the backward of op 'pow' produced inf"), AnomalyError);
}

TEST_CASE("engine errors") {
  const Variable<double> x(Tensor<double>{1, 2}, true);
  const Variable<double> y = x * 2;

  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("is shaped [2], not a scalar; pass "
                                                       "grad_output"),
                       GraphError);
  CHECK_THROWS_WITH_AS(y.backward(Tensor<double>{1, 2, 3}),
                       "backward: grad_output is shaped [3] but the variable is shaped [2]",
                       ShapeError);

  const Variable<double> constant(Tensor<double>(1.0));
  CHECK_THROWS_WITH_AS((constant * 2).backward(), doctest::Contains("does not require grad"),
                       GraphError);

  CHECK_THROWS_WITH_AS(x + Variable<double>(Tensor<double>{1, 2, 3}),
                       doctest::Contains("add: cannot broadcast [2] with [3]"), ShapeError);

  const Variable<double> loss = sum(y);
  loss.backward();
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("was already released"), GraphError);

  Variable<double> result = x * 3;
  CHECK_THROWS_WITH_AS(result.set_requires_grad(false),
                       doctest::Contains("is the result of op 'mul', and only leaves can change "
                                         "requires_grad"),
                       GraphError);

  const Variable<double> buggy = record_op<WrongShapeNode>(Tensor<double>{1, 2}, {x});
  CHECK_THROWS_WITH_AS(buggy.backward(Tensor<double>{1, 1}),
                       "backward of op 'wrong_shape' produced a gradient shaped [3] for input 0, "
                       "which is shaped [2]; the gradient must have its input's shape",
                       ShapeError);
}
