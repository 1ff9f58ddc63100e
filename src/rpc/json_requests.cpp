// JSON request input: whole inputs for unary calls, incremental input for streams.
#include "rpc/json_requests.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "codec/text_format.hpp"
#include "net/channel.hpp"

namespace grpcdx::rpc {

namespace {

Result<std::string> encode_one(std::string_view json, std::string_view source, int index,
                               const google::protobuf::Descriptor* type, codec::MessageCodec& codec) {
  auto message = codec.from_json(json, type);
  if (!message) {
    Error e = message.error();
    e.message = fmt::format("{} (message {} of {})", e.message, index, source);
    return std::unexpected(e);
  }
  std::string bytes;
  (*message)->SerializeToString(&bytes);
  return bytes;
}

}  // namespace

Result<std::string> read_request_text(const std::string& data) {
  if (!data.starts_with("@")) return data;
  std::string path = data.substr(1);
  if (path == "-" || path.empty()) {  // "@" alone is grpcurl's way to say standard input
    std::string text;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
    if (n < 0) return local_error(fmt::format("cannot read standard input: {}", std::strerror(errno)));
    return text;
  }
  return net::read_file(path, "request file");
}

Result<std::vector<std::string>> encode_json_messages(std::string_view text, std::string_view source,
                                                      const google::protobuf::Descriptor* type,
                                                      codec::MessageCodec& codec) {
  std::vector<std::string> values;
  if (codec.options().text_format) {
    values = codec::split_text_messages(text);
  } else {
    TRY(values, codec::split_json_values(text, source));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < values.size(); ++i) {
    TRY(auto bytes, encode_one(values[i], source, static_cast<int>(i + 1), type, codec));
    out.push_back(std::move(bytes));
  }
  return out;
}

std::optional<Result<std::string>> StreamingJsonSource::next(const std::atomic<bool>& stop) {
  while (!stop) {
    if (auto value = m_splitter.next()) return encode_one(*value, m_source, ++m_count, m_type, m_codec);
    if (m_eof) {
      auto finished = m_splitter.finish(m_source);
      if (!finished) return Result<std::string>(std::unexpected(finished.error()));
      return std::nullopt;
    }
    // Wait for input in short slices so a call that ends meanwhile is noticed.
    pollfd pfd{m_fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR)
      return Result<std::string>(local_error(fmt::format("cannot read {}: {}", m_source, std::strerror(errno))));
    if (ready <= 0) continue;
    char buffer[65536];
    ssize_t n = ::read(m_fd, buffer, sizeof buffer);
    if (n < 0 && errno != EINTR && errno != EAGAIN)
      return Result<std::string>(local_error(fmt::format("cannot read {}: {}", m_source, std::strerror(errno))));
    if (n == 0) m_eof = true;
    if (n > 0) m_splitter.feed(std::string_view(buffer, static_cast<size_t>(n)));
  }
  return std::nullopt;
}

}  // namespace grpcdx::rpc
