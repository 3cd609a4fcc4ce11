#pragma once
// The error of every data reader (IDX, CIFAR-10, image folders), without
// LibTorch so that the image pipeline can throw it too.

#include <stdexcept>

namespace nds::trainer {

// A dataset file or folder is missing, unreadable, truncated or malformed;
// what() names the file and what is wrong with it.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace nds::trainer
