#include "trainer/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "trainer/train.h"

namespace nds::trainer {
namespace {

constexpr double kBarRedrawSeconds = 0.1;
constexpr double kLineSeconds = 30;
constexpr int kBarWidth = 24;

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string duration(double seconds) {
  const auto s = static_cast<long>(std::max(0.0, seconds) + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

bool Progress::stderr_is_terminal() {
  const char* term = std::getenv("TERM");
  return isatty(STDERR_FILENO) == 1 && !(term && std::strcmp(term, "dumb") == 0);
}

void Progress::begin_epoch(int epoch, int epochs, int64_t steps) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  next_line_step_ = std::max<int64_t>(1, steps / 10);
  epoch_start_ = last_draw_ = Clock::now();
}

bool Progress::due(int64_t step) const {
  const double since = std::chrono::duration<double>(Clock::now() - last_draw_).count();
  if (terminal_) return step == steps_ || since >= kBarRedrawSeconds;
  return step == next_line_step_ || (since >= kLineSeconds && step < steps_);
}

void Progress::update(int64_t step, double loss, double top1_err, double lr,
                      double images_per_s) {
  const Clock::time_point now = Clock::now();
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double frac = steps_ > 0 ? static_cast<double>(step) / static_cast<double>(steps_) : 1;
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  const std::string stats = "loss " + fixed(loss, 4) + "  err " + fixed(top1_err, 2) + "%  lr " +
                            fixed(lr, 4) + "  " + fixed(images_per_s, 0) + " img/s";
  const std::string head = "epoch " + std::to_string(epoch_) + "/" + std::to_string(epochs_);
  if (terminal_) {
    const int filled = static_cast<int>(frac * kBarWidth + 0.5);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kBarWidth, '.');
    out_ << "\r\033[K" << head << " [" << bar << "] " << step << "/" << steps_ << "  " << stats
         << "  " << duration(elapsed) << "<" << duration(eta) << std::flush;
    bar_drawn_ = true;
    return;
  }
  out_ << head << "  step " << step << "/" << steps_ << "  " << stats << "  eta "
       << duration(eta) << '\n'
       << std::flush;
  while (next_line_step_ <= step) next_line_step_ += std::max<int64_t>(1, steps_ / 10);
}

void Progress::clear_bar() {
  if (terminal_ && bar_drawn_) out_ << "\r\033[K";
  bar_drawn_ = false;
}

void Progress::end_epoch(const EpochMetrics& m, int epochs) {
  clear_bar();
  out_ << "epoch " << m.epoch << "/" << epochs << "  loss " << fixed(m.train_loss, 4)
       << "  train err " << fixed(m.train_top1_err, 2) << "%";
  if (m.val_top1_err >= 0) out_ << "  val err " << fixed(m.val_top1_err, 2) << "%";
  if (m.test_top1_err >= 0)
    out_ << "  test err " << fixed(m.test_top1_err, 2) << "% (top-5 " << fixed(m.test_top5_err, 2)
         << "%)";
  out_ << "  " << fixed(m.train_seconds, 1) << " s, " << fixed(m.images_per_s, 0) << " img/s\n"
       << std::flush;
}

void Progress::message(const std::string& line) {
  clear_bar();
  out_ << line << '\n' << std::flush;
}

}  // namespace nds::trainer
