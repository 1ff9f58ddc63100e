// Renders the results of `list` and `describe` as text or JSON (SPEC.md shapes).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "report/output_format.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::report {

// Text: one service a line. JSON: {"services": [...]}. Ends with a newline.
std::string render_services(OutputFormat format, const std::vector<std::string>& services);

// Text: one "pkg.Service.Method" a line. JSON: {"service": "...", "methods": [{"name",
// "full_name", "input_type", "output_type", "client_streaming", "server_streaming"}]}.
std::string render_methods(OutputFormat format, const google::protobuf::ServiceDescriptor& service);

// The .proto text of a symbol (a service with its methods).
std::string symbol_proto(const schema::Symbol& symbol);

// Text: a "// NAME is a KIND in FILE" comment line, then the .proto text, then, when given,
// "Message template:" and the template (codec::message_template's JSON).
// JSON: {"symbol": "...", "kind": "service|method|message|enum", "proto": "..."}, plus
// "template" (the template as an object) when given.
std::string render_symbol(OutputFormat format, const schema::Symbol& symbol,
                          const std::optional<std::string>& message_template = std::nullopt);

}  // namespace grpcdx::report
