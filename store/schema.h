#pragma once
// The results database schema, its version and its migration path.
//
// An nds database is an SQLite file whose header carries application_id
// kApplicationId and whose `meta` table holds `schema_version`. The tables
// (documented for users in docs/store.md):
//   meta     key/value: schema_version, created_by, written_by, created_at
//   sweeps   one row per sweep: name, family, design space and recipe JSON,
//            seed, sample size, parent sweep, times, build info, the
//            sweep it is a sibling of (the same samples, another recipe)
//   models   one row per distinct network (canonical hash), with its family
//            parameters, expanded spec, params/flops/acts and indexed scalars
//   trials   one row per attempt at training one sample of a sweep
//   epochs   per-epoch metrics of a trial
//   events   append-only log of what happened (updates and deletes refused)
// and the view `current_trials` (the latest attempt of every sample).

#include <string>

#include "store/db.h"

namespace nds::store {

// 1: the first schema. 2: trials.reference (fixed points trained in a sweep).
// 3: trials.data_seconds and trials.skipped_images (image-folder training).
// 4: trials.lost (attempts whose worker was lost). 5: sweeps.sibling_of (a
// sweep that trains another's first samples under another recipe).
constexpr int kSchemaVersion = 5;
// "nds1" in the SQLite header, so `file` and other tools can tell the format.
constexpr int kApplicationId = 0x6E647331;

// What check_schema() found.
enum class SchemaState {
  kEmpty,    // no tables at all: a new database
  kCurrent,  // schema_version == kSchemaVersion
  kOlder,    // an older nds schema: a writer migrates it
};

// Inspects `db` without writing. Throws DatabaseFileError when the file is
// not an SQLite database, is an SQLite database of something else, or holds
// a schema newer than this build understands; each message names the file.
SchemaState check_schema(const Db& db, int* version = nullptr);

// Creates the schema in an empty database, or migrates an older one step by
// step, inside one transaction. `nds_version` is recorded in `meta`.
// Returns the version the database had before (0 when it was empty).
int ensure_schema(Db& db, const std::string& nds_version);

}  // namespace nds::store
