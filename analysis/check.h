#pragma once
// Argument checks shared by the analyses: every bad input becomes a
// std::invalid_argument whose message names the function, the value and the rule.

#include <cstddef>
#include <string>
#include <vector>

namespace nds::analysis {

// Shortest text that reads back as the same double ("0.25", "1e-07", "nan").
std::string format_value(double v);

// Throws std::invalid_argument("<where>: <message>").
[[noreturn]] void fail(const std::string& where, const std::string& message);

// Throws unless `values` is non-empty; `what` names the vector ("errors").
void check_not_empty(const std::string& where, const std::string& what, size_t size);

// Throws naming the first non-finite entry ("errors[3] is nan").
void check_finite(const std::string& where, const std::string& what,
                  const std::vector<double>& values);

// Throws unless two parallel vectors have the same length.
void check_same_size(const std::string& where, const std::string& what_a, size_t size_a,
                     const std::string& what_b, size_t size_b);

}  // namespace nds::analysis
