// Health status output.
#include "report/health_report.hpp"

#include "report/json_line.hpp"

namespace grpcdx::report {

void print_health(Io& io, OutputFormat format, const health::HealthReply& reply) {
  if (format == OutputFormat::json) {
    io.out << json_line({{"service", reply.service}, {"status", reply.status_name}}) << std::endl;
    return;
  }
  if (reply.service.empty()) io.out << reply.status_name << std::endl;
  else io.out << reply.service << ": " << reply.status_name << std::endl;
}

}  // namespace grpcdx::report
