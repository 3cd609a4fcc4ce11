#pragma once
// From a sweep's trials to the models the analyses see. The store keeps failed
// trials (diverged, crashed) with no usable error; they are dropped here, and a
// sweep left with nothing is an error that says why.

#include <cstddef>
#include <string>
#include <vector>

namespace nds::analysis {

// Indices of the trials that did not fail, in order. Throws
// std::invalid_argument naming the sweep when it has no trials at all, and
// when every one of its trials failed.
std::vector<size_t> finished_trials(const std::vector<bool>& failed, const std::string& sweep);

// values[i] for each index, in order (one column of the finished trials).
// Throws for an index out of range.
std::vector<double> gather(const std::vector<double>& values, const std::vector<size_t>& indices);

}  // namespace nds::analysis
