// Validation of the cross-entropy options, the weighted target rows q_b, and
// the row loss, row gradient and reduction that both softmax cross-entropy
// losses share. The formulas are in cross_entropy_options.hpp.
#include "losses/cross_entropy_options.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/kernels.hpp"
#include "core/shape.hpp"
#include "losses/checks.hpp"

namespace tapegrad {

const char* to_string(Reduction reduction) {
  switch (reduction) {
    case Reduction::mean:
      return "mean";
    case Reduction::sum:
      return "sum";
    case Reduction::none:
      return "none";
  }
  return "invalid";
}

namespace detail {

void check_cross_entropy_options(const CrossEntropyOptions& options, std::size_t num_classes,
                                 const char* caller) {
  const Reduction reduction = options.reduction;
  if (reduction != Reduction::mean && reduction != Reduction::sum && reduction != Reduction::none) {
    throw ValueError(std::string(caller) + ": reduction " +
                     std::to_string(static_cast<int>(reduction)) +
                     " is invalid; use Reduction::mean, Reduction::sum or Reduction::none");
  }

  const double smoothing = options.label_smoothing;
  if (!(smoothing >= 0 && smoothing < 1)) {
    throw ValueError(std::string(caller) + ": label_smoothing is " + format_number(smoothing) +
                     "; it must be in [0, 1)");
  }

  const std::vector<double>& weights = options.class_weights;
  if (weights.empty()) return;
  if (weights.size() != num_classes) {
    throw ShapeError(std::string(caller) + ": class_weights has " + std::to_string(weights.size()) +
                     " elements but the logits have " + std::to_string(num_classes) +
                     " classes; pass one weight per class");
  }
  for (std::size_t c = 0; c < num_classes; ++c) {
    if (!(weights[c] >= 0 && std::isfinite(weights[c]))) {
      throw ValueError(std::string(caller) + ": class_weights[" + std::to_string(c) + "] is " +
                       format_number(weights[c]) + "; class weights must be finite and at least 0");
    }
  }
}

namespace {

double class_weight(const CrossEntropyOptions& options, std::size_t class_id) {
  return options.class_weights.empty() ? 1.0 : options.class_weights[class_id];
}

}  // namespace

// With eps = 0 and no weights, q_c = 1 * (1 * t_c + 0) = t_c exactly, so
// default options give the same loss as the forms without options.
template <class T>
void weighted_targets(const T* targets, const CrossEntropyOptions& options, std::size_t num_classes,
                      double* q) {
  const double target_share = 1 - options.label_smoothing;
  const double uniform_share = options.label_smoothing / static_cast<double>(num_classes);
  for (std::size_t c = 0; c < num_classes; ++c) {
    const double smoothed = target_share * static_cast<double>(targets[c]) + uniform_share;
    q[c] = class_weight(options, c) * smoothed;
  }
}

void weighted_label(std::size_t class_id, const CrossEntropyOptions& options,
                    std::size_t num_classes, double* q) {
  const double target_share = 1 - options.label_smoothing;
  const double uniform_share = options.label_smoothing / static_cast<double>(num_classes);
  for (std::size_t c = 0; c < num_classes; ++c) {
    const double smoothed = (c == class_id ? target_share : 0.0) + uniform_share;
    q[c] = class_weight(options, c) * smoothed;
  }
}

// With m the row maximum and S = sum_c exp(x_c - m), lse(x) = m + log S, so
// l = log S * sum_c q_c - sum_c q_c * (x_c - m): m cancels, which keeps
// float precision for logits near 1e8. Terms with q_c = 0 are skipped,
// because 0 * (-inf - m) would be NaN where the logit is -inf.
template <class T>
double weighted_row_loss(const T* logits, const double* q, std::size_t num_classes) {
  const MaxSumExp<T> stats = row_max_sum_exp(logits, num_classes);
  const double max = stats.max;

  double q_sum = 0;
  double weighted_shifted_logits = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    if (q[c] == 0) continue;
    q_sum += q[c];
    weighted_shifted_logits += q[c] * (logits[c] - max);
  }
  return std::log(static_cast<double>(stats.sum_exp)) * q_sum - weighted_shifted_logits;
}

// One pass writes the gradient and the softmax is never stored. A -inf
// logit has exp(-inf) = 0, so where q_c = 0 its gradient is exactly 0.
template <class T>
void weighted_row_gradient(const T* logits, const double* q, std::size_t num_classes, double scale,
                           T* grad) {
  const MaxSumExp<T> stats = row_max_sum_exp(logits, num_classes);
  double q_sum = 0;
  for (std::size_t c = 0; c < num_classes; ++c) q_sum += q[c];

  const double probs_scale = q_sum / static_cast<double>(stats.sum_exp);
  for (std::size_t c = 0; c < num_classes; ++c) {
    const double scaled_prob = static_cast<double>(std::exp(logits[c] - stats.max)) * probs_scale;
    grad[c] = static_cast<T>(scale * (scaled_prob - q[c]));
  }
}

// Each loss is divided by D before it is added, in double, so the mean stays
// finite even when the losses are near the largest float.
template <class T>
Tensor<T> reduce_losses(const std::vector<double>& losses, Reduction reduction,
                        double mean_denominator) {
  if (reduction == Reduction::none) {
    Tensor<T> per_sample = Tensor<T>::from_shape({losses.size()});
    for (std::size_t b = 0; b < losses.size(); ++b) per_sample(b) = static_cast<T>(losses[b]);
    return per_sample;
  }

  double total = 0;
  if (reduction == Reduction::sum) {
    for (const double loss : losses) total += loss;
  } else if (mean_denominator > 0) {
    for (const double loss : losses) total += loss / mean_denominator;
  }
  return Tensor<T>(static_cast<T>(total));
}

template <class T>
std::vector<double> gradient_scales(const Tensor<T>& grad_output, Reduction reduction,
                                    std::size_t batch_size, double mean_denominator,
                                    const char* caller) {
  if (reduction == Reduction::none) {
    if (grad_output.dimension() != 1 || grad_output.size() != batch_size) {
      throw ShapeError(std::string(caller) + ": grad_output is " +
                       format_shape(grad_output.shape()) +
                       " but reduction none returns [batch] = [" + std::to_string(batch_size) +
                       "]; pass one upstream gradient per sample");
    }
    std::vector<double> scales(batch_size);
    for (std::size_t b = 0; b < batch_size; ++b) {
      const T value = grad_output(b);
      if (!std::isfinite(value)) {
        throw ValueError(std::string(caller) + ": grad_output[" + std::to_string(b) + "] is " +
                         format_number(value) + "; every element must be a finite number");
      }
      scales[b] = static_cast<double>(value);
    }
    return scales;
  }

  if (grad_output.size() != 1) {
    throw ShapeError(std::string(caller) + ": grad_output is " + format_shape(grad_output.shape()) +
                     " but reduction " + to_string(reduction) +
                     " returns a scalar; pass a scalar or a one-element tensor");
  }
  const double value = grad_output_value(grad_output, caller);
  if (reduction == Reduction::sum) return std::vector<double>(batch_size, value);

  // The mean of a batch with D = 0 is the constant 0, so its gradient is 0.
  if (!(mean_denominator > 0)) return std::vector<double>(batch_size, 0.0);
  const double scale = value / mean_denominator;
  if (!std::isfinite(scale)) {
    throw ValueError(std::string(caller) + ": grad_output " + format_number(value) +
                     " divided by the summed weight " + format_number(mean_denominator) +
                     " overflows; use larger class weights or a smaller grad_output");
  }
  return std::vector<double>(batch_size, scale);
}

#define TAPEGRAD_INSTANTIATE_CROSS_ENTROPY_OPTIONS(T)                                            \
  template void weighted_targets(const T*, const CrossEntropyOptions&, std::size_t, double*);    \
  template double weighted_row_loss(const T*, const double*, std::size_t);                       \
  template void weighted_row_gradient(const T*, const double*, std::size_t, double, T*);         \
  template Tensor<T> reduce_losses(const std::vector<double>&, Reduction, double);               \
  template std::vector<double> gradient_scales(const Tensor<T>&, Reduction, std::size_t, double, \
                                               const char*);

TAPEGRAD_INSTANTIATE_CROSS_ENTROPY_OPTIONS(float)
TAPEGRAD_INSTANTIATE_CROSS_ENTROPY_OPTIONS(double)

}  // namespace detail
}  // namespace tapegrad
