// Rendering of health statuses: the status name for people, SPEC's object for scripts.
#pragma once

#include "core/io.hpp"
#include "health/health_client.hpp"
#include "report/output_format.hpp"

namespace grpcdx::report {

// Text: "SERVING" (with the service name when one was asked for). JSON:
// {"service": "", "status": "SERVING"}. One line, flushed.
void print_health(Io& io, OutputFormat format, const health::HealthReply& reply);

}  // namespace grpcdx::report
