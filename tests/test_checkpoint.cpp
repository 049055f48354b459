// Module and training checkpoints: round trips, resuming, and mismatches.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "tapegrad.hpp"
#include "temporary_directory.hpp"

using namespace tapegrad;

namespace {

// A module with two parameters and a child, so names nest: "scale",
// "shift", "inner.scale", "inner.shift".
template <class T>
class Affine : public Module<T> {
 public:
  Affine(std::size_t size, Generator& generator, bool with_child = true) {
    scale_ = this->register_parameter("scale", generator.uniform_tensor<T>({size}, T(-1), T(1)));
    shift_ = this->register_parameter("shift", generator.uniform_tensor<T>({2, size}, T(-1), T(1)));
    if (with_child) this->register_module("inner", std::make_shared<Affine<T>>(size, generator, false));
  }
  Variable<T> forward(const Variable<T>& input) override { return input; }

 private:
  Variable<T> scale_;
  Variable<T> shift_;
};

template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
void check_same_parameters(const Module<T>& a, const Module<T>& b) {
  const auto first = a.named_parameters();
  const auto second = b.named_parameters();
  REQUIRE(first.size() == second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    CAPTURE(first[i].name);
    CHECK(first[i].name == second[i].name);
    CHECK(same_bits(first[i].parameter.value(), second[i].parameter.value()));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("module checkpoint round trip is bit exact", T, float, double) {
  TemporaryDirectory folder;
  Generator generator(1);
  Affine<T> saved(5, generator);
  Affine<T> restored(5, generator);

  save(folder.file("model.safetensors"), saved);
  load(folder.file("model.safetensors"), restored);

  check_same_parameters<T>(saved, restored);
  const auto names = saved.named_parameters();
  CHECK(names[2].name == "inner.scale");
}

TEST_CASE("module checkpoint mismatches are all listed") {
  TemporaryDirectory folder;
  Generator generator(2);
  Affine<float> small(3, generator);
  save(folder.file("small.safetensors"), small);

  Affine<float> large(4, generator);
  const auto before = large.named_parameters()[0].parameter.value();
  try {
    load(folder.file("small.safetensors"), large);
    FAIL("load accepted parameters of the wrong shape");
  } catch (const FileError& error) {
    const std::string message = error.what();
    CHECK(message.find("'scale' is [3] but the parameter is [4]") != std::string::npos);
    CHECK(message.find("'inner.shift' is [2, 3] but the parameter is [2, 4]") != std::string::npos);
  }
  // Nothing was changed by the failed load.
  CHECK(same_bits(before, large.named_parameters()[0].parameter.value()));

  Affine<float> without_child(3, generator, /*with_child=*/false);
  try {
    load(folder.file("small.safetensors"), without_child);
    FAIL("load accepted unexpected tensors");
  } catch (const FileError& error) {
    const std::string message = error.what();
    CHECK(message.find("unexpected 'inner.scale'") != std::string::npos);
    CHECK(message.find("unexpected 'inner.shift'") != std::string::npos);
  }

  Affine<double> wrong_dtype(3, generator);
  try {
    load(folder.file("small.safetensors"), wrong_dtype);
    FAIL("load accepted F32 tensors into a double module");
  } catch (const FileError& error) {
    CHECK(std::string(error.what()).find("'scale' is F32 but the parameter is F64") !=
          std::string::npos);
  }

  Affine<float> missing_target(3, generator);
  CHECK_THROWS_AS(load(folder.file("absent.safetensors"), missing_target), FileError);
}

TEST_CASE("training checkpoint resumes exactly") {
  TemporaryDirectory folder;
  const std::string path = folder.file("training.safetensors");

  // Two runs of "training": each step sets gradients from the generator and
  // steps Adam and the scheduler. One run is saved and restored halfway.
  const auto train = [](Affine<double>& model, Adam<double>& optimizer,
                        StepLR<double>& scheduler, Generator& generator, int steps) {
    for (int step = 0; step < steps; ++step) {
      optimizer.zero_grad();
      for (auto& named : model.named_parameters()) {
        const auto& shape = named.parameter.shape();
        named.parameter.mutable_grad() = generator.uniform_tensor<double>(
            std::vector<std::size_t>(shape.begin(), shape.end()), -1, 1);
      }
      optimizer.step();
      scheduler.step();
    }
  };

  Generator init_a(3), init_b(3), data_a(4), data_b(4);
  Affine<double> model_a(4, init_a), model_b(4, init_b);
  Adam<double> adam_a(model_a.parameters(), 0.1), adam_b(model_b.parameters(), 0.1);
  StepLR<double> steps_a(adam_a, 2, 0.5), steps_b(adam_b, 2, 0.5);

  train(model_a, adam_a, steps_a, data_a, 6);

  train(model_b, adam_b, steps_b, data_b, 3);
  save(path, model_b, TrainingState<double>{&adam_b, &steps_b, &data_b, 3});

  Generator init_c(99), data_c(99);
  Affine<double> model_c(4, init_c);
  Adam<double> adam_c(model_c.parameters(), 0.7);
  StepLR<double> steps_c(adam_c, 2, 0.5);
  TrainingState<double> state{&adam_c, &steps_c, &data_c, 0};
  load(path, model_c, state);
  CHECK(state.epoch == 3);
  CHECK(adam_c.step_count() == 3);
  CHECK(adam_c.learning_rate() == adam_b.learning_rate());
  CHECK(steps_c.epoch() == 3);
  CHECK(steps_c.base_learning_rate() == 0.1);

  train(model_c, adam_c, steps_c, data_c, 3);
  check_same_parameters<double>(model_a, model_c);

  // The parameters alone load from a training checkpoint, too.
  Generator init_d(5);
  Affine<double> model_d(4, init_d);
  CHECK_NOTHROW(load(path, model_d));

  // A module checkpoint is not a training checkpoint.
  save(folder.file("plain.safetensors"), model_d);
  CHECK_THROWS_AS(load(folder.file("plain.safetensors"), model_c, state), FileError);
}
