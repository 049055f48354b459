// Thread-local switches of the autograd engine: whether ops record nodes
// (turned off by NoGradGuard for evaluation) and whether anomaly detection
// checks every result for NaN and inf.
#pragma once

#include <string>

#include "core/error.hpp"

namespace tapegrad {

// Returns whether ops on this thread record nodes for backward.
bool is_grad_enabled();

// Stops recording on this thread for the guard's lifetime, for evaluation.
// The previous state is restored by the destructor, also when an exception
// leaves the scope.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Thrown by anomaly detection when an op's forward or backward produces NaN
// or inf.
class AnomalyError : public ValueError {
 public:
  using ValueError::ValueError;
};

// Turns anomaly detection on or off for this thread; off by default. When on,
// the first op whose forward output or input gradient holds NaN or inf throws
// AnomalyError naming the op and the shapes of its inputs. Checking costs one
// pass over every result.
void set_detect_anomaly(bool enabled);
bool is_anomaly_enabled();

// Turns anomaly detection on for the guard's lifetime.
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tapegrad
