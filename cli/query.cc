// nds query: read a results database (opened read-only; never blocks or
// changes it).

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/rows.h"
#include "store/reader.h"
#include "store/sql_guard.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;
using store::Row;
using store::Value;

constexpr const char* kUsage =
    "usage: nds query --db FILE --sweeps [--format F]\n"
    "       nds query --db FILE --trials SWEEP [--state S] [--sort index|error] [--limit K]\n"
    "                 [--all-attempts] [--format F]\n"
    "       nds query --db FILE --best SWEEP [-k K] [--format F]\n"
    "       nds query --db FILE --sql \"SELECT ...\" [--timeout SECONDS] [--format F]\n\n"
    "Reads the database read-only. F is table (default), csv or json. --sql runs one\n"
    "read-only statement (SELECT, WITH, VALUES, EXPLAIN or a reporting PRAGMA); anything\n"
    "that writes, ATTACH, DETACH and functions a read does not need are refused, and the\n"
    "query is stopped after --timeout seconds (default 10). Errors are percentages; times\n"
    "are Unix seconds in csv/json. FILE is always a file name, never a SQLite URI. The\n"
    "schema and the --sql rules are described in docs/store.md.\n\n";

std::string err_text(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

void print_sweeps(const store::Reader& reader, OutputFormat format) {
  const auto sweeps = reader.sweeps();
  if (format == OutputFormat::kTable) {
    RowWriter w(std::cout, format,
                {"sweep", "family", "n", "waiting", "running", "done", "diverged", "failed",
                 "best_top1_err", "created", "finished"},
                2);
    for (const auto& s : sweeps) {
      w.add({s.name, s.family, s.sample_size, s.counts[store::TrialState::kWaiting],
             s.counts[store::TrialState::kRunning], s.counts[store::TrialState::kComplete],
             s.counts[store::TrialState::kDiverged], s.counts[store::TrialState::kFailed],
             err_text(s.best_top1_err), format_time(s.created_at), format_time(s.finished_at)});
    }
    w.finish();
    return;
  }
  RowWriter w(std::cout, format,
              {"id", "name", "family", "sample_size", "seed", "parent", "sibling_of", "waiting",
               "running", "complete", "diverged", "failed", "best_top1_err", "created_at",
               "finished_at", "nds_version", "torch_version", "device", "world_size"});
  const auto real = [](double v) { return std::isnan(v) ? Value{} : Value{v}; };
  const auto text = [](const std::string& v) { return v.empty() ? Value{} : Value{v}; };
  for (const auto& s : sweeps) {
    w.add({s.id, s.name, s.family, s.sample_size, s.seed, text(s.parent), text(s.sibling_of),
           s.counts[store::TrialState::kWaiting], s.counts[store::TrialState::kRunning],
           s.counts[store::TrialState::kComplete], s.counts[store::TrialState::kDiverged],
           s.counts[store::TrialState::kFailed], real(s.best_top1_err), real(s.created_at),
           real(s.finished_at), s.nds_version, text(s.torch_version), text(s.device),
           s.world_size});
  }
  w.finish();
}

void print_trials(const std::string& sweep, const std::vector<store::TrialRecord>& trials,
                  OutputFormat format, bool ranked) {
  if (format == OutputFormat::kTable) {
    std::vector<std::string> header = {"index",   "attempt",  "state",    "model",     "flops",
                                       "params",  "top1_err", "top5_err", "best_top1", "epochs",
                                       "train_s", "worker",   "error"};
    if (ranked) header.insert(header.begin(), "#");
    RowWriter w(std::cout, format, header, 0);
    int64_t rank = 0;
    for (const auto& t : trials) {
      std::string worker = t.host;
      if (t.rank) worker += (worker.empty() ? "rank " : "/") + std::to_string(*t.rank);
      std::string error = t.error.size() > 60 ? t.error.substr(0, 57) + "..." : t.error;
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.0f", t.train_seconds);
      // Built cell by cell: GCC 12 warns falsely on long variant initializer lists.
      Row row;
      if (ranked) row.emplace_back(++rank);
      row.emplace_back(t.sample_index);
      row.emplace_back(t.attempt);
      row.emplace_back(std::string(store::to_string(t.state)));
      row.emplace_back(t.model_hash);
      row.emplace_back(si(static_cast<double>(t.flops)));
      row.emplace_back(si(static_cast<double>(t.params)));
      row.emplace_back(err_text(t.top1_err));
      row.emplace_back(err_text(t.top5_err));
      row.emplace_back(err_text(t.best_top1_err));
      row.emplace_back(t.epochs_done);
      row.emplace_back(std::isnan(t.train_seconds) ? std::string("-") : std::string(secs));
      row.emplace_back(or_dash(worker));
      row.emplace_back(or_dash(error));
      w.add(row);
    }
    w.finish();
    return;
  }
  RowWriter w(std::cout, format, trial_columns());
  for (const auto& t : trials) w.add(trial_row(sweep, t));
  w.finish();
}

void print_sql(const store::Reader& reader, const std::string& sql, double timeout_seconds,
               OutputFormat format) {
  store::GuardedQuery q(reader.db(), sql, timeout_seconds);
  RowWriter w(std::cout, format, q.columns(), q.columns().size());
  Row row;
  while (q.next(&row)) w.add(row);
  w.finish();
}

}  // namespace

int run_query(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "the results database (required)")
      ("sweeps", "list the sweeps with their state counts and best error")
      ("trials", po::value<std::string>(), "the trials of a sweep")
      ("best", po::value<std::string>(), "the k best COMPLETE trials of a sweep")
      ("sql", po::value<std::string>(), "one read-only SQL statement")
      ("timeout", po::value<double>()->default_value(store::kDefaultQueryTimeoutSeconds),
       "with --sql: stop the query after this many seconds")
      ("state", po::value<std::string>(), "with --trials: only this state")
      ("sort", po::value<std::string>()->default_value("index"), "with --trials: index or error")
      ("limit", po::value<int64_t>()->default_value(0), "with --trials: at most K rows (0: all)")
      ("all-attempts", "with --trials: every attempt, not only the latest")
      ("top,k", po::value<int64_t>()->default_value(10), "with --best: how many")
      ("format", po::value<std::string>()->default_value("table"), "table, csv or json");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  if (!vm.count("db")) throw std::invalid_argument("missing --db FILE (see nds query --help)");
  int modes = 0;
  for (const char* m : {"sweeps", "trials", "best", "sql"}) modes += vm.count(m) ? 1 : 0;
  if (modes != 1)
    throw std::invalid_argument("give exactly one of --sweeps, --trials, --best, --sql (got " +
                                std::to_string(modes) + ")");
  const OutputFormat format =
      parse_output_format(vm["format"].as<std::string>(),
                          {OutputFormat::kTable, OutputFormat::kCsv, OutputFormat::kJson});
  const auto only_with = [&](const char* option, const char* mode) {
    if (vm.count(option) && !vm[option].defaulted() && !vm.count(mode))
      throw std::invalid_argument(std::string("--") + option + " applies to --" + mode + " only");
  };
  for (const char* o : {"state", "sort", "limit", "all-attempts"}) only_with(o, "trials");
  only_with("top", "best");
  only_with("timeout", "sql");

  // Option values are checked before the file is opened.
  store::TrialQuery query;
  if (vm.count("trials")) {
    if (vm.count("state")) query.state = store::parse_trial_state(vm["state"].as<std::string>());
    const std::string sort = vm["sort"].as<std::string>();
    if (sort == "error")
      query.sort = store::TrialQuery::Sort::kError;
    else if (sort != "index")
      throw std::invalid_argument("unknown --sort '" + sort + "' (expected index or error)");
    query.limit = vm["limit"].as<int64_t>();
    if (query.limit < 0)
      throw std::invalid_argument("--limit must be >= 0, got " + std::to_string(query.limit));
    query.all_attempts = vm.count("all-attempts") > 0;
  }
  const int64_t k = vm["top"].as<int64_t>();
  if (k < 1) throw std::invalid_argument("-k must be >= 1, got " + std::to_string(k));
  const double timeout_seconds = vm["timeout"].as<double>();
  store::check_query_timeout(timeout_seconds);

  const store::Reader reader(vm["db"].as<std::string>());
  if (vm.count("sweeps")) {
    print_sweeps(reader, format);
  } else if (vm.count("trials")) {
    const std::string sweep = vm["trials"].as<std::string>();
    print_trials(sweep, reader.trials(sweep, query), format, false);
  } else if (vm.count("best")) {
    const std::string sweep = vm["best"].as<std::string>();
    print_trials(sweep, reader.best(sweep, k), format, true);
  } else {
    print_sql(reader, vm["sql"].as<std::string>(), timeout_seconds, format);
  }
  return kExitOk;
}

}  // namespace nds::cli
