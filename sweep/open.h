#pragma once
// Opening a sweep in its database: a new one is created with its trial
// list; an existing one must be the same experiment (space, recipe, seed),
// is resumed (RUNNING trials of a dead run and, with --max-retries, FAILED
// ones are queued again) and grown when the plan asks for more samples.

#include <cstdint>
#include <memory>

#include "store/store.h"
#include "sweep/plan.h"

namespace nds::sweep {

struct Opened {
  std::unique_ptr<store::Store> store;  // the single writer, for the whole run
  int64_t sweep_id = 0;
  int64_t total = 0;  // trials: samples and references
  bool resumed = false;
  int64_t grown_from = 0;  // the samples before this run grew the sweep; 0: not grown
  int64_t requeued = 0;
};

// Opens (creates, resumes or grows) the plan's sweep; `world_size` is
// recorded with a new one. Throws std::invalid_argument, naming what
// differs, for a plan the stored sweep refuses; a refused command leaves an
// existing database byte for byte as it was, and removes one it created.
Opened open_sweep(const Plan& plan, int world_size);

}  // namespace nds::sweep
