// Decoding of google.rpc.Status (grpc-status-details-bin) and its Any details into JSON.
#include "codec/status_details.hpp"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>

#include "core/base64.hpp"

namespace grpcdx::codec {

namespace pb = google::protobuf;

// The serialized FileDescriptorSet of proto/google/rpc/{status,error_details}.proto and their
// imports, embedded at build time (CMakeLists.txt, cmake/embed_file.cmake).
extern const unsigned char k_rpc_status_protoset[];
extern const std::size_t k_rpc_status_protoset_size;

namespace {

// google.rpc's types, built on first use: most calls end OK and never need them. Kept until exit.
const pb::DescriptorPool& rpc_status_pool() {
  static const pb::DescriptorPool* const pool = [] {
    pb::FileDescriptorSet set;
    set.ParseFromArray(k_rpc_status_protoset, static_cast<int>(k_rpc_status_protoset_size));
    auto* p = new pb::DescriptorPool;
    // --include_imports lists every file after the files it imports.
    for (const auto& file : set.file()) p->BuildFile(file);
    return p;
  }();
  return *pool;
}

// The type a type URL names: everything after its last '/'.
const pb::Descriptor* find_type(std::string_view type_url, const pb::DescriptorPool* call_pool) {
  std::string name(type_url.substr(type_url.rfind('/') + 1));
  if (name.empty()) return nullptr;
  if (const auto* type = rpc_status_pool().FindMessageTypeByName(name)) return type;
  return call_pool ? call_pool->FindMessageTypeByName(name) : nullptr;
}

StatusDetail decode_any(MessageCodec& codec, const std::string& type_url, const std::string& value,
                        const pb::DescriptorPool* call_pool) {
  StatusDetail detail{type_url, nlohmann::ordered_json::object(), false};
  detail.json["@type"] = type_url;
  if (const auto* type = find_type(type_url, call_pool)) {
    if (auto decoded = codec.decode(value, type)) {
      auto fields = nlohmann::ordered_json::parse(decoded->json, nullptr, false);
      if (!fields.is_discarded()) {
        detail.decoded = true;
        if (fields.is_object()) {
          for (auto& [key, field] : fields.items()) detail.json[key] = std::move(field);
        } else {
          detail.json["value"] = std::move(fields);  // a well-known type such as a Duration
        }
        return detail;
      }
    }
  }
  detail.json["value"] = base64_encode(value);
  return detail;
}

}  // namespace

StatusDetails decode_status_details(std::string_view bytes, const pb::DescriptorPool* call_pool,
                                    JsonOptions options) {
  StatusDetails result;
  if (bytes.empty()) return result;
  options.pretty = false;
  MessageCodec codec(options);
  const pb::Descriptor* status_type = rpc_status_pool().FindMessageTypeByName("google.rpc.Status");
  if (!status_type) {  // only if the embedded descriptor set were broken
    result.malformed = true;
    return result;
  }
  auto status = codec.from_bytes(bytes, status_type);
  if (!status) {
    result.malformed = true;
    return result;
  }
  const pb::Message& message = **status;
  const pb::Reflection* reflection = message.GetReflection();
  const pb::FieldDescriptor* details = status_type->FindFieldByName("details");
  const pb::Descriptor* any_type = details->message_type();
  const pb::FieldDescriptor* type_url = any_type->FindFieldByName("type_url");
  const pb::FieldDescriptor* value = any_type->FindFieldByName("value");
  for (int i = 0; i < reflection->FieldSize(message, details); ++i) {
    const pb::Message& any = reflection->GetRepeatedMessage(message, details, i);
    const pb::Reflection* any_reflection = any.GetReflection();
    result.details.push_back(decode_any(codec, any_reflection->GetString(any, type_url),
                                        any_reflection->GetString(any, value), call_pool));
  }
  return result;
}

std::string encode_retry_info_status(int code, std::string_view message, Duration retry_delay) {
  const pb::DescriptorPool& pool = rpc_status_pool();
  pb::DynamicMessageFactory factory(&pool);
  const pb::Descriptor* duration_type = pool.FindMessageTypeByName("google.protobuf.Duration");
  std::unique_ptr<pb::Message> delay(factory.GetPrototype(duration_type)->New());
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(retry_delay);
  delay->GetReflection()->SetInt64(delay.get(), duration_type->FindFieldByName("seconds"), seconds.count());
  delay->GetReflection()->SetInt32(delay.get(), duration_type->FindFieldByName("nanos"),
                                   static_cast<int32_t>((retry_delay - seconds).count()));

  const pb::Descriptor* retry_type = pool.FindMessageTypeByName("google.rpc.RetryInfo");
  std::unique_ptr<pb::Message> retry(factory.GetPrototype(retry_type)->New());
  retry->GetReflection()->SetAllocatedMessage(retry.get(), delay.release(), retry_type->FindFieldByName("retry_delay"));

  const pb::Descriptor* status_type = pool.FindMessageTypeByName("google.rpc.Status");
  std::unique_ptr<pb::Message> status(factory.GetPrototype(status_type)->New());
  const pb::Reflection* r = status->GetReflection();
  r->SetInt32(status.get(), status_type->FindFieldByName("code"), code);
  r->SetString(status.get(), status_type->FindFieldByName("message"), std::string(message));
  pb::Message* any = r->AddMessage(status.get(), status_type->FindFieldByName("details"));
  any->GetReflection()->SetString(any, any->GetDescriptor()->FindFieldByName("type_url"),
                                  "type.googleapis.com/google.rpc.RetryInfo");
  any->GetReflection()->SetString(any, any->GetDescriptor()->FindFieldByName("value"), retry->SerializeAsString());
  return status->SerializeAsString();
}

}  // namespace grpcdx::codec
