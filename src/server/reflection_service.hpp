// Server reflection, grpc.reflection.v1 and grpc.reflection.v1alpha, over one shared answering
// core that reads a protobuf DescriptorPool (the generated pool for the built-in server).
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "core/error.hpp"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace grpcdx::server {

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

// grpc.reflection.v1.ServerReflection answered by `core`, which must outlive it.
class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::CallbackService {
 public:
  explicit ReflectionV1Service(const ReflectionCore& core) : m_core(core) {}
  grpc::ServerBidiReactor<grpc::reflection::v1::ServerReflectionRequest,
                          grpc::reflection::v1::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* ctx) override;

 private:
  const ReflectionCore& m_core;
};

// grpc.reflection.v1alpha.ServerReflection answered by `core`, which must outlive it.
class ReflectionV1AlphaService final : public grpc::reflection::v1alpha::ServerReflection::CallbackService {
 public:
  explicit ReflectionV1AlphaService(const ReflectionCore& core) : m_core(core) {}
  grpc::ServerBidiReactor<grpc::reflection::v1alpha::ServerReflectionRequest,
                          grpc::reflection::v1alpha::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* ctx) override;

 private:
  const ReflectionCore& m_core;
};

// Fills `response` for `request` from `core` (either protocol version's message types; they
// are wire-identical). Unknown names give error_response NOT_FOUND; an empty request gives
// error_response UNIMPLEMENTED, as in gRPC's own implementation.
template <class Request, class Response>
void answer_reflection(const ReflectionCore& core, const Request& request, Response* response);

}  // namespace grpcdx::server
