// The request messages of a load run: serialised once when they are fixed, re-serialised per
// call only when they hold templates; chosen round-robin by request number.
#pragma once

#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/byte_buffer.h>

#include "codec/json_codec.hpp"
#include "core/error.hpp"
#include "load/request_template.hpp"

namespace grpcdx::load {

class RequestSet {
 public:
  // `json_messages` are single JSON values (already split), or empty for one empty message.
  // Every message is checked now: fixed ones are encoded once, templates are checked and one
  // sample expansion is encoded. Fails (local) on unknown templates or JSON that does not fit
  // `type`, naming `source` and the message number.
  // `names` are what the method placeholders ({{.MethodName}}, ...) expand to.
  static Result<std::unique_ptr<RequestSet>> create(const std::vector<std::string>& json_messages,
                                                    const google::protobuf::Descriptor* type,
                                                    codec::MessageCodec& codec, const std::string& source,
                                                    MethodNames names = {});

  size_t size() const { return m_messages.size(); }
  bool templated() const { return m_templated; }

  // The serialised message `index` (taken modulo size()) for call `request_number` made by
  // `worker_id`. Thread-safe. Fails (local) only for a template whose expansion does not parse
  // (e.g. a request number too large for an int32 field).
  Result<grpc::ByteBuffer> message(size_t index, uint64_t request_number, int worker_id);

 private:
  struct Entry {
    grpc::ByteBuffer fixed;  // when !is_template
    std::string text;        // the template JSON, when is_template
    bool is_template = false;
    bool uses_uuid = false;
  };
  RequestSet(const google::protobuf::Descriptor* type, codec::MessageCodec& codec, std::string source,
             MethodNames names)
      : m_type(type), m_codec(codec), m_source(std::move(source)), m_names(std::move(names)) {}

  const google::protobuf::Descriptor* m_type;
  codec::MessageCodec& m_codec;  // used under m_mutex: protobuf's JSON parser state is not shared safely
  std::string m_source;
  MethodNames m_names;
  std::vector<Entry> m_messages;
  bool m_templated = false;
  std::mutex m_mutex;
  std::mt19937_64 m_rng{std::random_device{}()};
};

// A ByteBuffer holding a copy of `bytes`.
grpc::ByteBuffer to_byte_buffer(const std::string& bytes);

}  // namespace grpcdx::load
