#pragma once
// The design-space report as one self-contained HTML page: inline SVG plots
// (reports/svg.h), CSS in a <style> element, no JavaScript and no external
// resource (a Content-Security-Policy forbids both), so the file can be
// mailed or opened from a login node.

#include <string>

#include <nlohmann/json.hpp>

namespace nds::reports {

// Renders a report document (docs/report_json.md) and nothing else. Every
// piece of user text is escaped (escape() in svg.h); sections whose data
// carry a "note" show the note instead of a plot; missing optional sections
// are left out. The same document gives the same bytes. Throws
// std::invalid_argument when `doc` is not an object with a non-empty
// "sweeps" array of objects.
std::string render_html(const nlohmann::json& doc);

}  // namespace nds::reports
