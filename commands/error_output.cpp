// Printing of errors as one line, with the gRPC status name for RPC failures.
#include "commands/error_output.hpp"

#include "rpc/exit_codes.hpp"
#include "rpc/status_codes.hpp"

namespace grpcdx::commands {

int print_error(std::ostream& err, const Error& e) {
  err << "error: ";
  if (e.kind == ErrorKind::rpc_status) err << rpc::status_name(e.grpc_code) << " (" << e.grpc_code << "): ";
  std::string message = e.message;
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  err << message;
  if (!e.hint.empty()) err << " (" << e.hint << ")";
  err << std::endl;
  return exit_code_for(e);
}

}  // namespace grpcdx::commands
