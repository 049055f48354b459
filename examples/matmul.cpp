// Multiplies two small matrices with tapegrad's BLAS-backed matmul and
// prints them and their product.
#include <iostream>

#include "tapegrad.hpp"

int main() {
  const tapegrad::Tensor<float> a = {{1, 2, 3}, {4, 5, 6}};
  const tapegrad::Tensor<float> b = {{7, 8}, {9, 10}, {11, 12}};

  const tapegrad::Tensor<float> product = tapegrad::matmul(a, b);

  std::cout << "a =\n" << a << "\n\nb =\n" << b << "\n\na · b =\n" << product << "\n";
  return 0;
}
