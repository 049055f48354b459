#include "nn/checkpoint.hpp"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/shape.hpp"
#include "nn/safetensors.hpp"

namespace tapegrad {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kKindKey = "tapegrad.checkpoint";
constexpr const char* kTrainingKind = "training";

template <class T>
constexpr const char* dtype_name() {
  return sizeof(T) == 4 ? "F32" : "F64";
}

const char* stored_dtype(const StoredTensor& tensor) {
  return std::holds_alternative<Tensor<float>>(tensor) ? "F32" : "F64";
}

// Doubles as text that reads back to the same bits.
std::string exact_text(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%a", value);
  return buffer;
}

std::size_t parse_count(const std::map<std::string, std::string>& metadata, const std::string& key,
                        const std::string& path) {
  const auto found = metadata.find(key);
  const std::string text = found == metadata.end() ? "" : found->second;
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw FileError("load: " + path + " has no valid metadata '" + key + "' (found '" + text +
                    "'); it is not a complete tapegrad training checkpoint");
  }
  return std::stoull(text);
}

// Reads a learning rate, which must be finite and >= 0 as optimizers require,
// so that an invalid one is rejected before anything is changed.
double parse_learning_rate(const std::map<std::string, std::string>& metadata,
                           const std::string& key, const std::string& path) {
  const auto found = metadata.find(key);
  const std::string text = found == metadata.end() ? "" : found->second;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw FileError("load: " + path + " has no valid metadata '" + key + "' (found '" + text +
                    "'); it is not a complete tapegrad training checkpoint");
  }
  if (!(std::isfinite(value) && value >= 0.0)) {
    throw FileError("load: " + path + ": metadata '" + key + "' is '" + text +
                    "', but a learning rate must be finite and >= 0");
  }
  return value;
}

template <class T>
SafetensorsContents module_contents(const Module<T>& module) {
  SafetensorsContents contents;
  for (const NamedParameter<T>& named : module.named_parameters()) {
    // Module's registration keeps the dotted names unique, so none is lost.
    [[maybe_unused]] const bool inserted =
        contents.tensors.emplace(named.name, named.parameter.value()).second;
    assert(inserted);
  }
  return contents;
}

// Checks the file's parameters against the module and returns them in the
// module's order. Collects every problem before throwing.
template <class T>
std::vector<Tensor<T>> match_parameters(const SafetensorsContents& contents,
                                        const Module<T>& module, const std::string& path) {
  const std::vector<NamedParameter<T>> parameters = module.named_parameters();
  std::vector<Tensor<T>> values;
  std::string problems;
  for (const NamedParameter<T>& named : parameters) {
    const auto found = contents.tensors.find(named.name);
    if (found == contents.tensors.end()) {
      problems += "; missing '" + named.name + "'";
      continue;
    }
    const Tensor<T>* tensor = std::get_if<Tensor<T>>(&found->second);
    if (tensor == nullptr) {
      problems += "; '" + named.name + "' is " + stored_dtype(found->second) +
                  " but the parameter is " + dtype_name<T>();
      continue;
    }
    if (tensor->shape() != named.parameter.shape()) {
      problems += "; '" + named.name + "' is " + format_shape(tensor->shape()) +
                  " but the parameter is " + format_shape(named.parameter.shape());
      continue;
    }
    values.push_back(*tensor);
  }

  for (const auto& [name, tensor] : contents.tensors) {
    if (name.rfind(kOptimizerPrefix, 0) == 0 && contents.metadata.count(kKindKey)) continue;
    bool known = false;
    for (const NamedParameter<T>& named : parameters) known = known || named.name == name;
    if (!known) problems += "; unexpected '" + name + "'";
  }

  if (!problems.empty()) {
    throw FileError("load: " + path + " does not match the module" + problems);
  }
  return values;
}

template <class T>
void assign_parameters(const Module<T>& module, std::vector<Tensor<T>> values) {
  std::vector<NamedParameter<T>> parameters = module.named_parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    parameters[i].parameter.mutable_value() = std::move(values[i]);
  }
}

}  // namespace

template <class T>
void save(const std::string& path, const Module<T>& module) {
  save_safetensors(path, module_contents(module));
}

template <class T>
void save(const std::string& path, const Module<T>& module, const TrainingState<T>& state) {
  SafetensorsContents contents = module_contents(module);
  contents.metadata[kKindKey] = kTrainingKind;
  contents.metadata["tapegrad.epoch"] = std::to_string(state.epoch);
  if (state.optimizer) {
    for (const OptimizerStateTensor<T>& tensor : state.optimizer->state_tensors()) {
      contents.tensors.emplace(kOptimizerPrefix + tensor.name, tensor.value);
    }
    contents.metadata["tapegrad.optimizer.step_count"] =
        std::to_string(state.optimizer->step_count());
    contents.metadata["tapegrad.optimizer.learning_rate"] =
        exact_text(state.optimizer->learning_rate());
  }
  if (state.scheduler) {
    contents.metadata["tapegrad.scheduler.epoch"] = std::to_string(state.scheduler->epoch());
    contents.metadata["tapegrad.scheduler.base_learning_rate"] =
        exact_text(state.scheduler->base_learning_rate());
  }
  if (state.generator) contents.metadata["tapegrad.generator"] = state.generator->state();
  save_safetensors(path, contents);
}

template <class T>
void load(const std::string& path, Module<T>& module) {
  const SafetensorsContents contents = load_safetensors(path);
  assign_parameters(module, match_parameters(contents, module, path));
}

template <class T>
void load(const std::string& path, Module<T>& module, TrainingState<T>& state) {
  const SafetensorsContents contents = load_safetensors(path);
  const auto kind = contents.metadata.find(kKindKey);
  if (kind == contents.metadata.end() || kind->second != kTrainingKind) {
    throw FileError("load: " + path +
                    " is not a training checkpoint (no metadata tapegrad.checkpoint=training); "
                    "load it without a TrainingState to read only its parameters");
  }

  // Parse and check everything first, so that an error changes nothing.
  std::vector<Tensor<T>> values = match_parameters(contents, module, path);
  const std::size_t epoch = parse_count(contents.metadata, "tapegrad.epoch", path);

  std::vector<OptimizerStateTensor<T>> optimizer_tensors;
  std::size_t step_count = 0;
  double learning_rate = 0;
  if (state.optimizer) {
    for (const auto& [name, tensor] : contents.tensors) {
      if (name.rfind(kOptimizerPrefix, 0) != 0) continue;
      const Tensor<T>* typed = std::get_if<Tensor<T>>(&tensor);
      if (typed == nullptr) {
        throw FileError("load: " + path + ": optimizer state '" + name + "' is " +
                        stored_dtype(tensor) + " but the model is " + dtype_name<T>());
      }
      optimizer_tensors.push_back({name.substr(std::string(kOptimizerPrefix).size()), *typed});
    }
    step_count = parse_count(contents.metadata, "tapegrad.optimizer.step_count", path);
    learning_rate =
        parse_learning_rate(contents.metadata, "tapegrad.optimizer.learning_rate", path);
  }
  std::size_t scheduler_epoch = 0;
  double scheduler_base_rate = 0;
  if (state.scheduler) {
    scheduler_epoch = parse_count(contents.metadata, "tapegrad.scheduler.epoch", path);
    scheduler_base_rate =
        parse_learning_rate(contents.metadata, "tapegrad.scheduler.base_learning_rate", path);
  }
  std::string generator_state;
  if (state.generator) {
    const auto found = contents.metadata.find("tapegrad.generator");
    if (found == contents.metadata.end()) {
      throw FileError("load: " + path +
                      " has no generator state (metadata tapegrad.generator is missing); save "
                      "it with a TrainingState whose generator is set");
    }
    generator_state = found->second;
    Generator probe;
    try {
      probe.set_state(generator_state);
    } catch (const ValueError& error) {
      throw FileError("load: " + path + ": invalid generator state: " + error.what());
    }
  }

  // Then apply. The optimizer checks its own tensors; its errors name them.
  if (state.optimizer) {
    try {
      state.optimizer->load_state(optimizer_tensors, step_count, learning_rate);
    } catch (const ValueError& error) {
      throw FileError("load: " + path + ": " + error.what());
    }
  }
  assign_parameters(module, std::move(values));
  if (state.scheduler) {
    // NOTE: a schedule whose rate at the saved epoch is not finite (StepLR
    // with gamma > 1 after many epochs) fails here, after the parameters and
    // the optimizer state were loaded.
    try {
      state.scheduler->restore(scheduler_epoch, scheduler_base_rate);
    } catch (const ValueError& error) {
      throw FileError("load: " + path + ": cannot restore the scheduler: " + error.what());
    }
  }
  if (state.optimizer) state.optimizer->set_learning_rate(learning_rate);
  if (state.generator) state.generator->set_state(generator_state);
  state.epoch = epoch;
}

template void save(const std::string&, const Module<float>&);
template void save(const std::string&, const Module<double>&);
template void save(const std::string&, const Module<float>&, const TrainingState<float>&);
template void save(const std::string&, const Module<double>&, const TrainingState<double>&);
template void load(const std::string&, Module<float>&);
template void load(const std::string&, Module<double>&);
template void load(const std::string&, Module<float>&, TrainingState<float>&);
template void load(const std::string&, Module<double>&, TrainingState<double>&);

}  // namespace tapegrad
