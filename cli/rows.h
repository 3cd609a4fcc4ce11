#pragma once
// Rows of results as a text table, CSV (RFC 4180 quoting), one JSON array,
// or JSON lines: the output of nds query and nds export.

#include <ostream>
#include <string>
#include <vector>

#include "cli/format.h"
#include "store/reader.h"
#include "store/records.h"

namespace nds::cli {

enum class OutputFormat { kTable, kCsv, kJson, kJsonl };

const char* to_string(OutputFormat format);
// Throws std::invalid_argument naming `text` and the allowed formats.
OutputFormat parse_output_format(const std::string& text, const std::vector<OutputFormat>& allowed);

// A CSV field: quoted (inner quotes doubled) when it holds a comma, quote,
// CR or LF, or starts or ends with a space.
std::string csv_field(const std::string& text);
// The shortest decimal that reads back as the same double.
std::string format_real(double v);
// "2024-05-01 12:34:56" (UTC), or "-" for NaN.
std::string format_time(double unix_seconds);

// Writes rows as they come; the table is printed by finish() (it needs every
// row to align the columns). Tables show NULL as "NULL"; CSV as an empty
// field; JSON as null. Blobs are printed as hex.
class RowWriter {
 public:
  RowWriter(std::ostream& out, OutputFormat format, std::vector<std::string> columns,
            size_t left_columns = 1);
  void add(const store::Row& row);
  void finish();

 private:
  std::ostream& out_;
  OutputFormat format_;
  std::vector<std::string> columns_;
  TextTable table_;
  size_t rows_ = 0;
};

// Every column of a trial record (query --trials/--best as CSV or JSON, and
// nds export), in a fixed order.
const std::vector<std::string>& trial_columns();
store::Row trial_row(const std::string& sweep, const store::TrialRecord& t);

const std::vector<std::string>& epoch_columns();
store::Row epoch_row(const std::string& sweep, const store::TrialRecord& t,
                     const store::EpochMetrics& e);

}  // namespace nds::cli
