// Options of the softmax cross-entropy losses: reduction, class weights,
// ignore_index and label smoothing, with the formulas that the documentation
// of torch.nn.CrossEntropyLoss (PyTorch 2.x) gives.
//
// Legend: B batch size, C classes, x logits [B, C], p_b = softmax(x_b),
// w class weights [C] (every w_c = 1 when none are given), eps label
// smoothing, g grad_output.
//
// Every option folds into one weighted, smoothed target row q_b per sample:
//
//   dense targets t [B, C]:  q_bc = w_c * ((1 - eps) * t_bc + eps / C)
//   class ids y [B]:         q_bc = w_c * ((1 - eps) * [c == y_b] + eps / C),
//                            and q_b = 0 when y_b equals ignore_index
//
//   per-sample loss  l_b = -sum_c q_bc * log p_bc
//                        = lse(x_b) * sum_c q_bc - sum_c q_bc * x_bc
//   its gradient     d l_b / d x_b = p_b * sum_c q_bc - q_b
//
// The reduction combines the l_b:
//
//   none   L = l, shape [B]      dx_b = g_b * d l_b / d x_b   (g is [B])
//   sum    L = sum_b l_b         dx_b = g * d l_b / d x_b     (g is a scalar)
//   mean   L = sum_b l_b / D     dx_b = g / D * d l_b / d x_b (g is a scalar)
//
// with D = B for dense targets, as in PyTorch, and for class ids D = the sum
// of w_{y_b} over the samples that are not ignored: the count of those
// samples when no weights are given. With smoothing too, D stays that sum
// of w_{y_b}, not the sum of q.
//
// NOTE: when D = 0, because every sample is ignored or every counted sample
// has weight 0, the mean is 0 with a zero gradient. PyTorch divides by zero
// there and returns NaN (or inf, when smoothing adds loss to such a batch).
//
// Terms with q_bc = 0 are skipped, so a -inf logit of a class with target 0
// or weight 0 adds nothing to the loss and gets gradient 0. With smoothing,
// every class of non-zero weight has q_bc > 0, so any -inf logit of such a
// class makes l_b = +inf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.hpp"

namespace tapegrad {

// The reduction of the per-sample losses l_b into the returned loss.
enum class Reduction {
  mean,  // a scalar: sum_b l_b / D, the weighted mean described above
  sum,   // a scalar: sum_b l_b
  none,  // [B]: one loss per sample
};

// Returns "mean", "sum" or "none", and "invalid" for any other value.
const char* to_string(Reduction reduction);

// The options of the softmax cross-entropy losses. Designated initializers
// name the fields to set, in this order:
//
//   sparse_softmax_cross_entropy(logits, labels,
//       {.reduction = Reduction::sum, .class_weights = {1.0, 2.0, 0.5},
//        .ignore_index = -100, .label_smoothing = 0.1});
//
// Every field has a default member initializer, because GCC 12's
// -Wmissing-field-initializers (in -Wextra) flags a designated initializer
// that leaves out a field without one.
struct CrossEntropyOptions {
  Reduction reduction = Reduction::mean;

  // One finite, non-negative weight per class. Empty means every class
  // weighs 1.
  std::vector<double> class_weights = {};

  // A label value whose samples add nothing to the loss, the gradient or
  // the mean's denominator. Such labels are not range-checked, so the value
  // may lie outside [0, C), as PyTorch's default -100 does. Unlike PyTorch,
  // nothing is ignored unless this is set. Class labels only: the dense loss
  // rejects it.
  std::optional<std::int64_t> ignore_index = std::nullopt;

  // eps in [0, 1): the share of each target's mass that is spread evenly
  // over the C classes.
  double label_smoothing = 0;
};

namespace detail {

// Throws ValueError for a reduction other than the three enumerators, a
// label_smoothing that is NaN or outside [0, 1), and a class weight that is
// negative, NaN or infinite. Throws ShapeError for class weights whose
// length is not num_classes. Each message names the value.
void check_cross_entropy_options(const CrossEntropyOptions& options, std::size_t num_classes,
                                 const char* caller);

// Writes q_c = w_c * ((1 - eps) * t_c + eps / C) for one row of dense
// targets t.
template <class T>
void weighted_targets(const T* targets, const CrossEntropyOptions& options, std::size_t num_classes,
                      double* q);

// Writes q_c = w_c * ((1 - eps) * [c == class_id] + eps / C) for one label.
void weighted_label(std::size_t class_id, const CrossEntropyOptions& options,
                    std::size_t num_classes, double* q);

// Returns l = lse(x) * sum_c q_c - sum_c q_c * x_c for one row of logits,
// computed in double on logits shifted by the row maximum.
template <class T>
double weighted_row_loss(const T* logits, const double* q, std::size_t num_classes);

// Writes scale * (softmax(x)_c * sum_c q_c - q_c) into grad for one row.
template <class T>
void weighted_row_gradient(const T* logits, const double* q, std::size_t num_classes, double scale,
                           T* grad);

// Combines the per-sample losses as `reduction` selects: a 0-D tensor for
// mean and sum, [B] for none. The mean divides by mean_denominator, and is 0 when
// that is 0.
template <class T>
Tensor<T> reduce_losses(const std::vector<double>& losses, Reduction reduction,
                        double mean_denominator);

// Returns the factor of each row's gradient: g / D for mean (0 when D is 0),
// g for sum, g_b for none. Throws ShapeError when grad_output does not have
// the shape of the loss (one element for mean and sum, [B] for none) and
// ValueError for a NaN or infinite element, or a g / D that overflows.
template <class T>
std::vector<double> gradient_scales(const Tensor<T>& grad_output, Reduction reduction,
                                    std::size_t batch_size, double mean_denominator,
                                    const char* caller);

}  // namespace detail
}  // namespace tapegrad
