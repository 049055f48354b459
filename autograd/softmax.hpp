// softmax and log_softmax along the last axis of a variable.
//
// A tensor of any rank is treated as rows of its last axis, so a 2-D
// [batch_size, num_classes] gets one distribution per row. Both ops use the
// row kernels of core/kernels.hpp, which subtract the row maximum, so large
// logits do not overflow.
//
// A row that contains NaN or +inf gives a row of NaN, and so does a row of only
// -inf; anomaly mode (set_detect_anomaly) names the op. Other -inf entries
// are fine: their probability is 0.
#pragma once

#include "autograd/variable.hpp"

namespace tapegrad {

// Returns exp(x) / sum exp(x) over each row of the last axis. Throws
// ShapeError for a 0-D x.
template <class T>
Variable<T> softmax(const Variable<T>& x);

// Returns x - log(sum exp(x)) over each row of the last axis, computed
// directly rather than as log(softmax(x)), which would give -inf for
// probabilities that underflow. Throws ShapeError for a 0-D x.
template <class T>
Variable<T> log_softmax(const Variable<T>& x);

}  // namespace tapegrad
