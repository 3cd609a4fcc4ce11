#include "store/schema.h"

#include <sqlite3.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace nds::store {
namespace {

constexpr const char* kResultsView = R"sql(
-- One row per sample (its latest attempt) with its sweep's name and its
-- model's cost and scalar parameters: the table most analyses start from.
CREATE VIEW results AS
SELECT s.name AS sweep, t.sample_index, t.attempt, t.state, t.seed, t.reference,
       t.top1_err, t.top5_err, t.best_top1_err, t.best_top5_err, t.train_loss,
       t.epochs_done, t.train_seconds, t.images_per_sec, t.data_seconds, t.skipped_images,
       t.decoded_images, t.lost,
       m.hash, m.family, m.params, m.flops, m.acts, m.depth, m.w_0, m.w_a, m.w_m,
       m.group_width, m.bottleneck_ratio, m.params_json,
       t.id AS trial_id, t.sweep_id, t.model_id
FROM trials t JOIN sweeps s ON s.id = t.sweep_id JOIN models m ON m.id = t.model_id
WHERE t.latest = 1;
)sql";

// The current schema (version 5), then kResultsView. Times are Unix seconds
// (REAL); errors are percentages, as pycls logs them; JSON columns hold
// compact JSON text with sorted keys.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sweeps (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  family        TEXT NOT NULL,
  space_json    TEXT NOT NULL,
  recipe_json   TEXT NOT NULL,
  seed          INTEGER NOT NULL,
  sample_size   INTEGER NOT NULL,
  parent_id     INTEGER REFERENCES sweeps(id),
  created_at    REAL NOT NULL,
  finished_at   REAL,
  nds_version   TEXT NOT NULL,
  torch_version TEXT,
  device        TEXT,
  world_size    INTEGER NOT NULL DEFAULT 1,
  -- Version 5: the sweep whose first samples this one trains again under
  -- another recipe (nds sweep --recipe-of), so that analyses pair them;
  -- NULL for other sweeps.
  sibling_of    INTEGER REFERENCES sweeps(id)
);

CREATE TABLE models (
  id               INTEGER PRIMARY KEY,
  hash             TEXT NOT NULL UNIQUE,
  family           TEXT NOT NULL,
  params_json      TEXT NOT NULL,
  spec_json        TEXT NOT NULL,
  params           INTEGER NOT NULL,
  flops            INTEGER NOT NULL,
  acts             INTEGER NOT NULL,
  depth            INTEGER,
  w_0              REAL,
  w_a              REAL,
  w_m              REAL,
  group_width      INTEGER,
  bottleneck_ratio REAL
);
CREATE INDEX models_family_flops ON models(family, flops);
CREATE INDEX models_depth ON models(depth);
CREATE INDEX models_w_0 ON models(w_0);
CREATE INDEX models_w_a ON models(w_a);
CREATE INDEX models_w_m ON models(w_m);
CREATE INDEX models_group_width ON models(group_width);
CREATE INDEX models_bottleneck_ratio ON models(bottleneck_ratio);

CREATE TABLE trials (
  id             INTEGER PRIMARY KEY,
  sweep_id       INTEGER NOT NULL REFERENCES sweeps(id),
  sample_index   INTEGER NOT NULL,
  attempt        INTEGER NOT NULL DEFAULT 0,
  latest         INTEGER NOT NULL DEFAULT 1 CHECK (latest = 0 OR latest = 1),
  model_id       INTEGER NOT NULL REFERENCES models(id),
  seed           INTEGER NOT NULL,
  -- Spelled as ORs: SQLite evaluates a CHECK ... IN (list) with a temporary
  -- table on every write, which made state changes twice as costly.
  state          TEXT NOT NULL DEFAULT 'WAITING'
                 CHECK (state = 'WAITING' OR state = 'RUNNING' OR state = 'COMPLETE' OR
                        state = 'FAILED' OR state = 'DIVERGED'),
  rank           INTEGER,
  host           TEXT,
  device         TEXT,
  started_at     REAL,
  finished_at    REAL,
  heartbeat_at   REAL,
  top1_err       REAL,
  top5_err       REAL,
  best_top1_err  REAL,
  best_top5_err  REAL,
  train_loss     REAL,
  epochs_done    INTEGER NOT NULL DEFAULT 0,
  train_seconds  REAL,
  images_per_sec REAL,
  error          TEXT,
  -- The fixed point (space/zoo.h name) a reference trial trains next to the
  -- samples (nds sweep --include); NULL for a sample of the space.
  reference      TEXT,
  -- Version 3, after `reference` because ALTER TABLE ADD COLUMN appends.
  -- data_seconds stays NULL until a result sets it (so for results from before v3);
  -- skipped_images needs a constant default for ADD COLUMN ... NOT NULL.
  data_seconds   REAL,
  skipped_images INTEGER NOT NULL DEFAULT 0,
  decoded_images INTEGER NOT NULL DEFAULT 0,
  -- Version 4: 1 when the attempt ended because its worker was lost (no
  -- heartbeat), no fault of the trial: it does not count against retries.
  lost           INTEGER NOT NULL DEFAULT 0 CHECK (lost = 0 OR lost = 1),
  UNIQUE (sweep_id, sample_index, attempt)
);
-- One current attempt per sample.
CREATE UNIQUE INDEX trials_current ON trials(sweep_id, sample_index) WHERE latest = 1;
-- Claiming (lowest WAITING index first) and per-state counts.
CREATE INDEX trials_state ON trials(sweep_id, latest, state, sample_index);
-- The best completed trials of a sweep.
CREATE INDEX trials_best ON trials(sweep_id, top1_err, sample_index) WHERE state = 'COMPLETE';
CREATE INDEX trials_model ON trials(model_id);

CREATE TABLE epochs (
  trial_id       INTEGER NOT NULL REFERENCES trials(id),
  epoch          INTEGER NOT NULL,
  train_loss     REAL,
  train_top1_err REAL,
  train_top5_err REAL,
  test_top1_err  REAL,
  test_top5_err  REAL,
  lr             REAL,
  seconds        REAL,
  PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;

CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  time     REAL NOT NULL,
  kind     TEXT NOT NULL,
  sweep_id INTEGER,
  trial_id INTEGER,
  detail   TEXT
);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the events table is append-only'); END;

CREATE VIEW current_trials AS SELECT * FROM trials WHERE latest = 1;

)sql";

// Migration to version `to` from version `to - 1`: SQL run inside the
// writer's transaction. A migrated database must equal a new one, which
// store_test checks against kSchema. The steps leave the results view alone:
// it lists trial columns, and a step's view would name columns that only a
// later step adds, so ensure_schema recreates the current view once, after
// the last step.
struct Migration {
  int to;
  const char* sql;
};
constexpr const char* kToV2 = R"sql(
ALTER TABLE trials ADD COLUMN reference TEXT;
)sql";
constexpr const char* kToV3 = R"sql(
ALTER TABLE trials ADD COLUMN data_seconds REAL;
ALTER TABLE trials ADD COLUMN skipped_images INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN decoded_images INTEGER NOT NULL DEFAULT 0;
)sql";
constexpr const char* kToV4 = R"sql(
ALTER TABLE trials ADD COLUMN lost INTEGER NOT NULL DEFAULT 0 CHECK (lost = 0 OR lost = 1);
)sql";
constexpr const char* kToV5 = R"sql(
ALTER TABLE sweeps ADD COLUMN sibling_of INTEGER REFERENCES sweeps(id);
)sql";
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {{2, kToV2}, {3, kToV3}, {4, kToV4}, {5, kToV5}};
  return list;
}

std::string hex(int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

[[noreturn]] void not_nds(const Db& db, const std::string& why) {
  throw DatabaseFileError("'" + db.path() + "' is not an nds database (" + why + ")");
}

// The first query that reads the file: where a non-SQLite file is detected.
int read_application_id(const Db& db) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), "PRAGMA application_id", -1, &stmt, nullptr);
  int id = 0;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      id = sqlite3_column_int(stmt, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  if ((rc & 0xFF) == SQLITE_NOTADB) not_nds(db, "not an SQLite file");
  if (rc == SQLITE_READONLY_ROLLBACK)
    throw DatabaseFileError("database '" + db.path() +
                            "' holds a transaction its writer left unfinished (a hot journal); "
                            "open it for writing once (nds db init --db " +
                            db.path() + ") to roll it back");
  if ((rc & 0xFF) == SQLITE_CORRUPT) not_nds(db, "a damaged SQLite file");
  if (rc != SQLITE_OK && rc != SQLITE_DONE) db.fail("reading the header", rc);
  return id;
}

}  // namespace

SchemaState check_schema(const Db& db, int* version) {
  const int app_id = read_application_id(db);
  const int64_t objects = db.query_int("SELECT count(*) FROM sqlite_schema").value_or(0);
  if (version) *version = 0;
  if (app_id == 0 && objects == 0) return SchemaState::kEmpty;
  if (app_id != kApplicationId) {
    not_nds(db, app_id == 0
                    ? "an SQLite database without nds tables"
                    : "an SQLite database of another program, application_id " + hex(app_id));
  }
  const bool has_meta =
      db.query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'")
          .value_or(0) == 1;
  if (!has_meta) not_nds(db, "no meta table");
  const auto text = db.query_text("SELECT value FROM meta WHERE key = 'schema_version'");
  int v = 0;
  try {
    size_t used = 0;
    v = text ? std::stoi(*text, &used) : 0;
    if (text && used != text->size()) v = 0;
  } catch (const std::exception&) {
    v = 0;
  }
  if (v < 1) not_nds(db, "no valid schema_version in meta");
  if (version) *version = v;
  if (v > kSchemaVersion) {
    const std::string by =
        db.query_text("SELECT value FROM meta WHERE key = 'written_by'").value_or("?");
    throw DatabaseFileError("database '" + db.path() + "' has schema version " + std::to_string(v) +
                            " (written by nds " + by + "), newer than this nds understands (" +
                            std::to_string(kSchemaVersion) + "): use a newer nds");
  }
  return v == kSchemaVersion ? SchemaState::kCurrent : SchemaState::kOlder;
}

namespace {

// The DDL of the current schema (what a new database is created with).
const std::string& schema_sql() {
  static const std::string sql = std::string(kSchema) + kResultsView;
  return sql;
}

void create(Db& db, const std::string& nds_version) {
  db.exec(schema_sql());
  db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
  Statement put = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
  put.bind(1, "schema_version").bind(2, std::to_string(kSchemaVersion)).run();
  put.bind(1, "created_by").bind(2, nds_version).run();
  put.bind(1, "created_at").bind(2, std::to_string(unix_now())).run();
}

// Runs the steps from version `before` to kSchemaVersion, then recreates the
// results view (see Migration).
void migrate(Db& db, int before) {
  for (int to = before + 1; to <= kSchemaVersion; ++to) {
    const Migration* step = nullptr;
    for (const Migration& m : migrations())
      if (m.to == to) step = &m;
    if (!step)
      throw StoreError("database '" + db.path() + "': no migration from schema version " +
                       std::to_string(to - 1) + " to " + std::to_string(to));
    db.exec(step->sql);
  }
  db.exec(std::string("DROP VIEW results;") + kResultsView);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'")
      .bind(1, std::to_string(kSchemaVersion))
      .run();
  const std::string detail =
      "{\"from\":" + std::to_string(before) + ",\"to\":" + std::to_string(kSchemaVersion) + "}";
  db.prepare("INSERT INTO events(time, kind, detail) VALUES (?, 'schema_migrated', ?)")
      .bind(1, unix_now())
      .bind(2, detail)
      .run();
}

}  // namespace

int ensure_schema(Db& db, const std::string& nds_version) {
  db.exec("BEGIN IMMEDIATE");
  try {
    int before = 0;
    const SchemaState state = check_schema(db, &before);
    if (state == SchemaState::kEmpty) create(db, nds_version);
    if (state == SchemaState::kOlder) migrate(db, before);
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    db.prepare(
          "INSERT INTO meta(key, value) VALUES ('written_by', ?) "
          "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(1, nds_version)
        .run();
    db.exec("COMMIT");
    return before;
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace nds::store
