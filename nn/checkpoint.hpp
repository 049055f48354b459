// Checkpoints: a module's parameters, and optionally the state needed to
// resume training, in one safetensors file.
//
// Parameters are stored under their names from Module::named_parameters()
// ("0.weight", "0.bias", ...), the keys of PyTorch's state_dict, so
// `model.load_state_dict(safetensors.torch.load_file(path))` reads a module
// checkpoint directly. A training checkpoint adds the optimizer's buffers
// under "optimizer.<name>" and the rest as string metadata under "tapegrad.*"
// keys; PyTorch reads its parameters with load_state_dict(..., strict=False).
//
// Files are written through write_file_atomically(), so a crash leaves either
// the earlier checkpoint or the new one.
#pragma once

#include <cstddef>
#include <string>

#include "core/random.hpp"
#include "nn/lr_scheduler.hpp"
#include "nn/module.hpp"
#include "nn/optimizer.hpp"

namespace tapegrad {

// What a training checkpoint contains besides the parameters. Null pointers are
// left out when saving and left alone when loading.
template <class T>
struct TrainingState {
  Optimizer<T>* optimizer = nullptr;
  LRScheduler<T>* scheduler = nullptr;
  Generator* generator = nullptr;  // e.g. the batch loader's, for the next shuffle
  std::size_t epoch = 0;           // epochs completed
};

// Writes the module's parameters to `path`.
template <class T>
void save(const std::string& path, const Module<T>& module);

// Writes the parameters and the training state to `path`.
template <class T>
void save(const std::string& path, const Module<T>& module, const TrainingState<T>& state);

// Reads parameters from `path` into the module. Every parameter must be in
// the file with its dtype (F32 for float, F64 for double) and shape, and the
// file may hold no other tensors except a training checkpoint's optimizer
// state. Throws FileError listing every missing, unexpected, wrongly typed
// or wrongly shaped name, and leaves the module unchanged on any error.
template <class T>
void load(const std::string& path, Module<T>& module);

// Reads parameters and training state: the optimizer's buffers, step count
// and learning rate, the scheduler's epoch, the generator's state and the
// epoch count. Throws FileError when the file is not a training checkpoint
// or its state does not match; nothing is changed on any error.
template <class T>
void load(const std::string& path, Module<T>& module, TrainingState<T>& state);

}  // namespace tapegrad
