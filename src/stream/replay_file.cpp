// Replay file parsing (line by line, naming the bad line) and writing.
#include "stream/replay_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base64.hpp"

namespace grpcdx::stream {

namespace {

using Json = nlohmann::json;

std::string round3(double v) {
  std::string s = fmt::format("{:.3f}", v);
  while (s.ends_with('0')) s.pop_back();
  if (s.ends_with('.')) s.pop_back();
  return s;
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Reads {"key": ["v1", "v2"], ...} (SPEC's metadata shape) into `out`; `where` names the field.
std::optional<std::string> read_metadata(const Json& j, const char* where, net::Metadata& out) {
  if (!j.is_object()) return fmt::format("\"{}\" must be an object of lists of strings", where);
  for (const auto& [key, values] : j.items()) {
    if (!values.is_array())
      return fmt::format("\"{}\".\"{}\" must be a list of strings", where, key);
    for (const auto& v : values) {
      if (!v.is_string()) return fmt::format("\"{}\".\"{}\" must be a list of strings", where, key);
      out.push_back({key, v.get<std::string>()});
    }
  }
  return std::nullopt;
}

}  // namespace

Result<ReplayScript> parse_replay(std::string_view text, std::string_view source,
                                  const google::protobuf::Descriptor* input,
                                  const google::protobuf::Descriptor* output,
                                  codec::MessageCodec& codec) {
  ReplayScript script;
  int line_no = 0;
  bool any = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    auto fail = [&](const std::string& what) {
      return local_error(fmt::format("{}:{}: {}", source, line_no, what));
    };
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) return fail("not JSON (each line must be one JSON object)");
    if (!j.is_object()) return fail(fmt::format("expected a JSON object, got {}", j.type_name()));
    if (script.status)
      return fail(fmt::format("nothing may follow the status line (line {})", script.status->line));
    auto dir_it = j.find("dir");
    if (dir_it == j.end()) return fail("missing \"dir\" (use send, recv or status)");
    if (!dir_it->is_string()) return fail("\"dir\" must be a string (send, recv or status)");
    std::string dir = dir_it->get<std::string>();
    double t_ms = 0;
    if (auto t = j.find("t_ms"); t != j.end()) {
      if (!t->is_number()) return fail("\"t_ms\" must be a number of milliseconds");
      t_ms = t->get<double>();
      if (!std::isfinite(t_ms) || t_ms < 0)
        return fail(fmt::format("\"t_ms\" must not be negative, got {}", dump(*t)));
    } else if (dir != "status") {
      return fail("missing \"t_ms\"");
    }
    if (dir == "status") {
      ReplayStatus status;
      status.line = line_no;
      auto code = j.find("code");
      if (code == j.end() || !code->is_number_integer() || code->get<int64_t>() < 0 ||
          code->get<int64_t>() > 16)
        return fail("a status line needs \"code\": a status number 0-16");
      status.code = code->get<int>();
      if (auto m = j.find("message"); m != j.end()) {
        if (!m->is_string()) return fail("\"message\" of a status line must be a string");
        status.message = m->get<std::string>();
      }
      if (auto tr = j.find("trailers"); tr != j.end()) {
        if (auto bad = read_metadata(*tr, "trailers", status.trailers)) return fail(*bad);
      }
      script.status = status;
      any = true;
      continue;
    }
    if (dir == "metadata" || dir == "headers") {
      auto md = j.find("metadata");
      if (md == j.end()) return fail(fmt::format("a {} line needs \"metadata\"", dir));
      auto& into = dir == "metadata" ? script.request_metadata : script.headers;
      if (auto bad = read_metadata(*md, "metadata", into)) return fail(*bad);
      continue;
    }
    if (dir != "send" && dir != "recv")
      return fail(fmt::format("unknown dir '{}' (use send, recv or status)", dir));
    auto m = j.find("message");
    if (m == j.end()) return fail(fmt::format("a {} line needs \"message\"", dir));
    if (!m->is_object()) return fail("\"message\" must be a JSON object");
    const auto* type = dir == "send" ? input : output;
    auto parsed = codec.from_json(dump(*m), type);
    if (!parsed)
      return fail(
          fmt::format("message does not fit {}: {}", type->full_name(), parsed.error().message));
    if (dir == "send") {
      std::string bytes;
      if (!(*parsed)->SerializeToString(&bytes))
        return fail(fmt::format("cannot serialize {}", type->full_name()));
      script.sends.push_back({line_no, t_ms, std::move(bytes)});
    } else {
      script.recvs.push_back(
          {line_no, t_ms, std::shared_ptr<google::protobuf::Message>(std::move(*parsed))});
    }
    any = true;
  }
  if (!any)
    return local_error(fmt::format("{}: empty replay file (no send, recv or status lines)", source),
                       "record one with `grpcdx call ... --record FILE`");
  return script;
}

Result<std::unique_ptr<ReplayRecorder>> ReplayRecorder::open(const std::string& path, bool show_secrets) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return local_error(
        fmt::format("cannot create record file '{}': {}", path, std::strerror(errno)));
  // O_CREAT keeps the mode of a file that already exists; a recording may hold secrets.
  if (::fchmod(fd, 0600) != 0) {
    int e = errno;
    ::close(fd);
    return local_error(
        fmt::format("cannot set mode 0600 on record file '{}': {}", path, std::strerror(e)));
  }
  std::FILE* file = ::fdopen(fd, "w");
  if (!file) {
    int e = errno;
    ::close(fd);
    return local_error(fmt::format("cannot open record file '{}': {}", path, std::strerror(e)));
  }
  return std::unique_ptr<ReplayRecorder>(new ReplayRecorder(file, path, show_secrets));
}

ReplayRecorder::~ReplayRecorder() {
  if (m_file) std::fclose(m_file);
}

void ReplayRecorder::write_line(double t_ms, const std::string& dir, const std::string& rest) {
  std::lock_guard lock(m_mutex);
  if (!m_file || m_write_error) return;
  m_last_t_ms = std::max(m_last_t_ms, t_ms);
  std::string line = fmt::format(R"({{"t_ms":{},"dir":"{}",{}}})", round3(m_last_t_ms), dir, rest);
  if (std::fputs(line.c_str(), m_file) < 0 || std::fputc('\n', m_file) < 0 ||
      std::fflush(m_file) != 0)
    m_write_error = std::strerror(errno);
}

void ReplayRecorder::send(double t_ms, const std::string& message_json) {
  write_line(t_ms, "send", "\"message\":" + message_json);
}

void ReplayRecorder::recv(double t_ms, const std::string& message_json) {
  write_line(t_ms, "recv", "\"message\":" + message_json);
}

std::string ReplayRecorder::metadata_json(const net::Metadata& metadata) const {
  Json out = Json::object();
  for (const auto& m : metadata) {
    std::string value = m.key.ends_with("-bin") ? base64_encode(m.value) : m.value;
    out[m.key].push_back(net::shown_value(m.key, value, m_show_secrets));
  }
  return dump(out);
}

void ReplayRecorder::request_metadata(double t_ms, const net::Metadata& metadata) {
  if (!metadata.empty()) write_line(t_ms, "metadata", "\"metadata\":" + metadata_json(metadata));
}

void ReplayRecorder::headers(double t_ms, const net::Metadata& metadata) {
  if (!metadata.empty()) write_line(t_ms, "headers", "\"metadata\":" + metadata_json(metadata));
}

void ReplayRecorder::status(double t_ms, int code, const std::string& message, const net::Metadata& trailers) {
  std::string rest = fmt::format(R"("code":{},"message":{})", code, dump(Json(message)));
  if (!trailers.empty()) rest += ",\"trailers\":" + metadata_json(trailers);
  write_line(t_ms, "status", rest);
}

Result<void> ReplayRecorder::close() {
  std::lock_guard lock(m_mutex);
  if (m_file && std::fclose(m_file) != 0 && !m_write_error) m_write_error = std::strerror(errno);
  m_file = nullptr;
  if (m_write_error)
    return local_error(fmt::format("cannot write record file '{}': {}", m_path, *m_write_error));
  return {};
}

}  // namespace grpcdx::stream
