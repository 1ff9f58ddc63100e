// Server reflection, grpc.reflection.v1 and grpc.reflection.v1alpha, over one shared answering
// core that reads a protobuf DescriptorPool (served_pool() for the built-in server).
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/service_type.h>

#include "core/error.hpp"
#include "grpc/reflection/v1/reflection.pb.h"

namespace grpcdx::server {

// What the built-in server's reflection describes: the generated pool, plus the files whose
// generated code grpcdx does not link (grpc/testing/test.proto, which defines only a service,
// and grpc/reflection/v1alpha/reflection.proto), built once from a descriptor set embedded at
// build time. Their generated descriptors would be indexed by a static initialiser at every
// start of every command; this way only `serve` pays, once.
const google::protobuf::DescriptorPool& served_pool();

// Answers reflection questions from `pool` about the services a server registered. Lookups fail
// (local) with a message naming what was not found; the services turn that into NOT_FOUND.
class ReflectionCore {
 public:
  ReflectionCore(const google::protobuf::DescriptorPool* pool, std::vector<std::string> services);

  // The registered services' fully-qualified names, sorted.
  const std::vector<std::string>& list_services() const { return m_services; }

  // The file named `filename` and its transitive dependencies, each a serialized
  // FileDescriptorProto, the asked-for file first. Fails when the pool has no such file.
  Result<std::vector<std::string>> file_by_filename(const std::string& filename) const;

  // The file defining `symbol` (a service, method, message, enum, field, ...) and its transitive
  // dependencies. Fails when the pool knows no such symbol.
  Result<std::vector<std::string>> file_containing_symbol(const std::string& symbol) const;

  // The file defining extension `number` of message `containing_type`, with its dependencies.
  // Fails when the type or the extension is unknown.
  Result<std::vector<std::string>> file_containing_extension(const std::string& containing_type,
                                                             int number) const;

  // The field numbers of every known extension of message `type`, sorted. Fails when the type
  // is unknown.
  Result<std::vector<int>> extension_numbers(const std::string& type) const;

 private:
  std::vector<std::string> with_dependencies(const google::protobuf::FileDescriptor* file) const;

  const google::protobuf::DescriptorPool* m_pool;
  std::vector<std::string> m_services;
};

// The bidi method ServerReflectionInfo at `method_path`, answered by `core` (which must outlive
// it) one request at a time. Both versions are spoken with the v1 messages: v1alpha's are
// wire-identical, so it needs no generated code of its own.
// Who runs a service's calls. `callback`: gRPC's callback API, whose threads (in gRPC 1.51 with
// the epoll1 engine) poll every socket of the process. `sync`: the threads of a synchronous
// server, which poll nothing when the server is built to leave polling to another queue (the
// chaos admin port, so that only the proxy's loop polls: src/chaos/admin_service.cpp).
enum class Handlers { callback, sync };

class ReflectionService : public grpc::Service {
 protected:
  ReflectionService(const ReflectionCore& core, const char* method_path, Handlers handlers);
};

// grpc.reflection.v1.ServerReflection answered by `core`, which must outlive it.
class ReflectionV1Service final : public ReflectionService {
 public:
  explicit ReflectionV1Service(const ReflectionCore& core, Handlers handlers = Handlers::callback);
};

// grpc.reflection.v1alpha.ServerReflection answered by `core`, which must outlive it.
class ReflectionV1AlphaService final : public ReflectionService {
 public:
  explicit ReflectionV1AlphaService(const ReflectionCore& core, Handlers handlers = Handlers::callback);
};

// Fills `response` for `request` from `core` (the v1 messages, for either protocol version).
// Unknown names give error_response NOT_FOUND; an empty request gives error_response
// UNIMPLEMENTED, as in gRPC's own implementation.
void answer_reflection(const ReflectionCore& core,
                       const grpc::reflection::v1::ServerReflectionRequest& request,
                       grpc::reflection::v1::ServerReflectionResponse* response);

}  // namespace grpcdx::server
