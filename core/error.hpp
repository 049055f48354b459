// The exceptions tapegrad throws for caller errors.
//
// All of them derive from std::invalid_argument through tapegrad::Error, so a
// caller can catch one type. Internal invariants use assert instead.
#pragma once

#include <stdexcept>
#include <string>

namespace tapegrad {

// Base of every caller error that tapegrad reports.
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Shapes or ranks that an operation cannot accept.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A value out of its valid range: a label, a NaN, a hyperparameter.
class ValueError : public Error {
 public:
  using Error::Error;
};

// A file that is missing, unreadable, malformed or cannot be written.
class FileError : public Error {
 public:
  using Error::Error;
};

// Misuse of the autograd graph, such as backward() over a released graph.
class GraphError : public Error {
 public:
  using Error::Error;
};

}  // namespace tapegrad
