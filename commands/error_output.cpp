// Printing of errors as one line, with the gRPC status name for RPC failures.
#include "commands/error_output.hpp"

#include "core/printable.hpp"
#include "rpc/exit_codes.hpp"
#include "rpc/status_codes.hpp"

namespace grpcdx::commands {

int print_error(std::ostream& err, const Error& e) {
  err << "error: ";
  if (e.kind == ErrorKind::rpc_status) err << rpc::status_name(e.grpc_code) << " (" << e.grpc_code << "): ";
  // Messages carry a peer's text (a status message, a certificate's name): one safe line.
  err << printable_line(e.message);
  if (!e.hint.empty()) err << " (" << printable_line(e.hint) << ")";
  err << std::endl;
  return exit_code_for(e);
}

}  // namespace grpcdx::commands
