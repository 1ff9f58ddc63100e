// `grpcdx probe`: walks dns -> tcp -> tls -> http2 -> grpc, one timed stage at a time, each
// bounded by the stage timeout, and says where the connection breaks (SPEC.md's classes).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "net/channel.hpp"
#include "probe/classify.hpp"

namespace grpcdx::probe {

struct ProbeOptions {
  net::ConnectionOptions conn;                      // target, TLS flags, metadata
  Duration stage_timeout = std::chrono::seconds(5);  // bound of each stage (--timeout)
  std::string service;                              // health service to ask about ("" = server)
};

enum class StageStatus { ok, fail, skip };

// "ok", "fail" or "skip".
std::string_view status_name(StageStatus s);

struct StageResult {
  std::string name;  // dns, tcp, tls, http2, grpc
  StageStatus status = StageStatus::skip;
  Duration duration{};
  nlohmann::ordered_json detail = nlohmann::ordered_json::object();
  std::optional<Failure> failure;  // set when status is fail
};

struct Verdict {
  ProbeClass cls = ProbeClass::ok;
  std::string summary;
  std::string hint;
  bool ok() const { return cls == ProbeClass::ok; }
  int exit_code() const { return probe::exit_code(cls); }
};

// One probe of one target (or one address of it, under --all).
struct ProbeReport {
  std::string target;   // as the user wrote it
  std::string address;  // the address that answered at the tcp stage (or was dialled), may be ""
  std::vector<StageResult> stages;  // always dns, tcp, tls, http2, grpc in this order
  Verdict verdict;
  Duration total{};
};

// The verdict of a list of stages: the first failed stage's failure, or ok with a summary
// naming `address`.
Verdict verdict_of(const std::vector<StageResult>& stages, const std::string& address);

// Probes the target. Fails (usage) for target schemes the probe cannot dial itself (anything
// but host:port, unix:, unix-abstract:, dns:, ipv4:, ipv6:), (local) when --cacert, --cert or
// --key cannot be read. Every network failure is a verdict, not an error.
Result<ProbeReport> run_probe(const ProbeOptions& opt);

// Resolves the name once, then probes every address it resolves to. A name that does not
// resolve gives one report with the dns failure. Fails as run_probe.
Result<std::vector<ProbeReport>> run_probe_all(const ProbeOptions& opt);

// The report that decides the exit code of --all: the failing instance whose failure comes
// earliest in the stack (the lowest exit code above 0), or the first when all are ok.
const ProbeReport& worst(const std::vector<ProbeReport>& reports);

// SPEC.md's JSON: {"target", "stages": [{"name","status","ms","detail"}...], "verdict": {...}}.
nlohmann::ordered_json to_json(const ProbeReport& report);
nlohmann::ordered_json to_json(const Verdict& verdict);

// SPEC.md's --all JSON: {"target", "instances": [{"address","stages","verdict"}...], "verdict"}.
nlohmann::ordered_json to_json_all(const std::string& target, const std::vector<ProbeReport>& reports);

// The readable report: one line a stage (mark, name, duration, details), the verdict and the
// hint. `color` adds ANSI colours.
std::string render_text(const ProbeReport& report, bool color);

// The --all table: one block per instance, then a line per instance side by side.
std::string render_text_all(const std::string& target, const std::vector<ProbeReport>& reports, bool color);

}  // namespace grpcdx::probe
