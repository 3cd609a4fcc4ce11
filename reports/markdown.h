#pragma once
// The design-space report as Markdown (GitHub-flavoured): the sections of
// the HTML page as tables, without images.

#include <string>

#include <nlohmann/json.hpp>

namespace nds::reports {

// Renders a report document (docs/report_json.md). User text is escaped for
// Markdown (markdown_escape) and code blocks use a fence longer than any
// backtick run inside them. Deterministic. Throws std::invalid_argument when
// `doc` is not an object with a non-empty "sweeps" array of objects.
std::string render_markdown(const nlohmann::json& doc);

// Inline text for a table cell or heading: Markdown punctuation that could
// start markup (\ ` * _ [ ] < > | # ~ ! & ( )) is backslash-escaped and line
// breaks become spaces, so a value stays one cell and shows literally.
std::string markdown_escape(const std::string& text);

}  // namespace nds::reports
