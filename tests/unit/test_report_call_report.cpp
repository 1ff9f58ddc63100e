// Unit tests for src/report/call_report: how a call's end is shown, here its rich error details.
#include <doctest.h>

#include <sstream>

#include "report/call_report.hpp"

using namespace grpcdx;

namespace {

// grpc-status-details-bin by hand: Status{code: 3, details: [Any{type_url, value}]}.
std::string status_with_detail(const std::string& type_url, const std::string& value) {
  auto field = [](int number, const std::string& bytes) {
    return std::string(1, static_cast<char>(number << 3 | 2)) + static_cast<char>(bytes.size()) + bytes;
  };
  return std::string("\x08\x03", 2) + field(3, field(1, type_url) + field(2, value));
}

struct Shown {
  std::string out, err;
};

Shown show(const std::string& details, report::OutputFormat format) {
  std::ostringstream out, err;
  std::istringstream in;
  Io io{out, err, in};
  report::CallReport report(io, {format, false, false, {}});
  rpc::CallResult result;
  result.code = 3;
  result.message = "bad";
  result.details = details;
  report.status(result, std::nullopt, nullptr);
  return {out.str(), err.str()};
}

}  // namespace

TEST_CASE("each detail is a line on stderr in text mode; none without details") {
  auto shown = show(status_with_detail("type.googleapis.com/google.rpc.ErrorInfo", std::string("\x0a\x02ok", 4)),
                    report::OutputFormat::text);
  CHECK(shown.out.empty());
  CHECK(shown.err == "detail: google.rpc.ErrorInfo {\"reason\":\"ok\"}\n");
  CHECK(show("", report::OutputFormat::text).err.empty());
}

TEST_CASE("a type URL with control characters cannot reach the terminal as such") {
  auto shown = show(status_with_detail("x/evil\x1b[2J\nfake", "\x08\x01"), report::OutputFormat::text);
  CHECK(shown.err == "detail: evil?[2J fake (undecoded, base64) CAE=\n");
  // In JSON they are escaped, as every string is.
  auto json = show(status_with_detail("x/evil\x1b[2J", "\x08\x01"), report::OutputFormat::json);
  CHECK(json.out.find(R"("details":[{"@type":"x/evil\u001b[2J","value":"CAE="}])") != std::string::npos);
}
