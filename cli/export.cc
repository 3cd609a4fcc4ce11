// nds export: one sweep's trials as CSV or JSON lines, for pandas and friends.

#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/rows.h"
#include "store/reader.h"

namespace nds::cli {
namespace {

namespace po = boost::program_options;

constexpr const char* kUsage =
    "usage: nds export --db FILE --sweep NAME [--format csv|jsonl] [--epochs] [--all-attempts]\n"
    "                  [--output FILE]\n\n"
    "One row per trial (the latest attempt of each sample unless --all-attempts) with its\n"
    "model's cost and parameters. jsonl nests family_params and the per-epoch metrics;\n"
    "--epochs writes one row per epoch instead. pandas: pd.read_csv(FILE) or\n"
    "pd.read_json(FILE, lines=True).\n\n";

nlohmann::ordered_json epoch_json(const store::EpochMetrics& e) {
  const auto num = [](double v) -> nlohmann::ordered_json {
    if (std::isnan(v)) return nullptr;
    return v;
  };
  return {{"epoch", e.epoch},
          {"train_loss", num(e.train_loss)},
          {"train_top1_err", num(e.train_top1_err)},
          {"train_top5_err", num(e.train_top5_err)},
          {"test_top1_err", num(e.test_top1_err)},
          {"test_top5_err", num(e.test_top5_err)},
          {"lr", num(e.lr)},
          {"seconds", num(e.seconds)}};
}

// A JSON line: the trial's columns, family_params parsed, epochs nested.
void write_jsonl(std::ostream& out, const std::string& sweep, const store::TrialRecord& t,
                 const std::vector<store::EpochMetrics>& epochs) {
  const auto& columns = trial_columns();
  const store::Row row = trial_row(sweep, t);
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (size_t i = 0; i < columns.size(); ++i) {
    const store::Value& v = row[i];
    if (columns[i] == "params_json") {
      o["family_params"] = nlohmann::ordered_json::parse(t.params_json, nullptr, false);
    } else if (std::holds_alternative<std::monostate>(v)) {
      o[columns[i]] = nullptr;
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      o[columns[i]] = *n;
    } else if (const auto* d = std::get_if<double>(&v)) {
      o[columns[i]] = *d;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      o[columns[i]] = *s;
    }
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& e : epochs) list.push_back(epoch_json(e));
  o["epochs"] = std::move(list);
  out << json_dump(o) << '\n';
}

}  // namespace

int run_export(const std::vector<std::string>& args) {
  po::options_description opts("options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "the results database (required)")
      ("sweep", po::value<std::string>(), "the sweep to export (required)")
      ("format", po::value<std::string>()->default_value("csv"), "csv or jsonl")
      ("epochs", "one row per epoch instead of one per trial")
      ("all-attempts", "every attempt, not only the latest")
      ("output,o", po::value<std::string>(), "write to FILE instead of stdout");
  // clang-format on
  po::variables_map vm;
  if (parse_options(args, opts, kUsage, vm)) return kExitOk;
  if (!vm.count("db")) throw std::invalid_argument("missing --db FILE (see nds export --help)");
  if (!vm.count("sweep"))
    throw std::invalid_argument("missing --sweep NAME (see nds export --help)");
  const OutputFormat format = parse_output_format(vm["format"].as<std::string>(),
                                                  {OutputFormat::kCsv, OutputFormat::kJsonl});
  const bool all_attempts = vm.count("all-attempts") > 0;
  const bool per_epoch = vm.count("epochs") > 0;
  const std::string sweep = vm["sweep"].as<std::string>();

  const store::Reader reader(vm["db"].as<std::string>());
  reader.sweep(sweep);  // a missing sweep fails before any output file is created

  std::ofstream file;
  if (vm.count("output")) {
    const std::string path = vm["output"].as<std::string>();
    file.open(path, std::ios::binary | std::ios::trunc);
    if (!file) throw std::invalid_argument("cannot write '" + path + "': " + std::strerror(errno));
  }
  std::ostream& out = vm.count("output") ? static_cast<std::ostream&>(file) : std::cout;

  if (per_epoch) {
    RowWriter w(out, format, epoch_columns());
    reader.for_each_trial_with_epochs(
        sweep, all_attempts,
        [&](const store::TrialRecord& t, const std::vector<store::EpochMetrics>& epochs) {
          for (const auto& e : epochs) w.add(epoch_row(sweep, t, e));
        });
    w.finish();
  } else if (format == OutputFormat::kJsonl) {
    reader.for_each_trial_with_epochs(
        sweep, all_attempts,
        [&](const store::TrialRecord& t, const std::vector<store::EpochMetrics>& epochs) {
          write_jsonl(out, sweep, t, epochs);
        });
  } else {
    RowWriter w(out, format, trial_columns());
    store::TrialQuery query;
    query.all_attempts = all_attempts;
    reader.snapshot([&] {
      reader.for_each_trial(sweep, query,
                            [&](const store::TrialRecord& t) { w.add(trial_row(sweep, t)); });
    });
    w.finish();
  }
  out.flush();
  if (!out) throw std::runtime_error("writing the export failed");
  return kExitOk;
}

}  // namespace nds::cli
