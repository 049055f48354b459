// tapegrad: a small autograd framework that trains neural networks on the CPU.
// Including this header brings in the whole public API, in namespace tapegrad.
#pragma once

#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/kernels.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"

#include "autograd/grad_mode.hpp"
#include "autograd/node.hpp"
#include "autograd/tape.hpp"
#include "autograd/variable.hpp"
