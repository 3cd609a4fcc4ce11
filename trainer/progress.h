#pragma once
// Training progress on stderr: a bar redrawn in place on a terminal, plain
// lines (about every tenth of an epoch, and at least every 30 s) otherwise.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace nds::trainer {

struct EpochMetrics;

class Progress {
 public:
  Progress(std::ostream& out, bool terminal);

  // Whether stderr is a terminal (and TERM is not "dumb").
  static bool stderr_is_terminal();

  void begin_epoch(int epoch, int epochs, int64_t steps);
  // Cheap; true when update() for `step` (1-based) would draw something.
  bool due(int64_t step) const;
  void update(int64_t step, double loss, double top1_err, double lr, double images_per_s);
  void end_epoch(const EpochMetrics& m, int epochs);
  void message(const std::string& line);

 private:
  using Clock = std::chrono::steady_clock;
  void clear_bar();

  std::ostream& out_;
  bool terminal_;
  int epoch_ = 0;
  int epochs_ = 0;
  int64_t steps_ = 0;
  int64_t next_line_step_ = 0;
  Clock::time_point epoch_start_;
  Clock::time_point last_draw_;
  bool bar_drawn_ = false;
};

}  // namespace nds::trainer
