#include "autograd/grad_mode.hpp"

namespace tapegrad {
namespace {

thread_local bool grad_enabled = true;
thread_local bool anomaly_enabled = false;

}  // namespace

bool is_grad_enabled() { return grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(grad_enabled) { grad_enabled = false; }

NoGradGuard::~NoGradGuard() { grad_enabled = previous_; }

void set_detect_anomaly(bool enabled) { anomaly_enabled = enabled; }

bool is_anomaly_enabled() { return anomaly_enabled; }

DetectAnomalyGuard::DetectAnomalyGuard() : previous_(anomaly_enabled) { anomaly_enabled = true; }

DetectAnomalyGuard::~DetectAnomalyGuard() { anomaly_enabled = previous_; }

}  // namespace tapegrad
