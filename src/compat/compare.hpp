// Wire compatibility of a client's schema with a server's: two DescriptorPools in, findings out,
// named after buf breaking's rules. Pure: no I/O of its own and no printing.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

namespace grpcdx::compat {

enum class Severity { error, warning };

// "error" or "warning".
std::string_view severity_name(Severity severity);

// One difference between the two schemas and what it does to calls.
struct Finding {
  Severity severity = Severity::error;
  std::string rule;     // buf breaking's rule ID: "FIELD_WIRE_COMPATIBLE_TYPE"
  std::string symbol;   // what differs: "pkg.Msg.field", "pkg.Service.Method", "pkg.Enum.VALUE"
  std::string client;   // what the client's schema has there ("int32", "unary", "absent")
  std::string server;   // what the server's schema has there
  std::string message;  // in words: which side has what, and what happens to calls
  // The methods (pkg.Service/Method) whose requests or responses reach the symbol, in the order
  // they were checked; for a missing service, the service's methods.
  std::vector<std::string> methods;
};

// How many of the client's definitions were compared.
struct Checked {
  int services = 0;
  int methods = 0;
  int messages = 0;
  int enums = 0;
};

struct Report {
  Checked checked;
  std::vector<Finding> findings;  // by method, then in the order of the walk
  // Every method checked (pkg.Service/Method), in order, for rendering methods without findings.
  std::vector<std::string> methods;

  int count(Severity severity) const;
  // No errors, and with `fail_on_warning` no warnings either.
  bool compatible(bool fail_on_warning) const;
};

struct CompareOptions {
  // Add buf's WIRE_JSON rules: field and enum value names, json_name, and types whose JSON forms
  // differ, for clients that speak JSON through a gateway.
  bool json = false;
};

// Compares `client_services` (services of the client's schema) with the services of the same
// full names among `server_services` (those the server's schema has; a name missing there is a
// deleted service), and every message and enum their methods reach, each pair once: requests as
// written by the client and read by the server, responses the other way. Fields are matched by
// number, enum values by number; message and enum types whose names differ are compared by
// their contents. Only the descriptors are read, so a pool behind reflection must hold the
// server's files already (looking the services up loads them).
Report compare(std::span<const google::protobuf::ServiceDescriptor* const> client_services,
               std::span<const google::protobuf::ServiceDescriptor* const> server_services,
               const CompareOptions& options = {});

}  // namespace grpcdx::compat
