// `grpcdx version`: the tool's version and the gRPC and protobuf versions it was built with.
#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include <fmt/format.h>

#include "commands/command.hpp"

namespace grpcdx::commands {

void register_version(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("version", "Print the version and the gRPC and protobuf versions");
  cmd->callback([&slot] {
    slot.run = [](Io& io) -> Result<int> {
      io.out << fmt::format("grpcdx {}\ngrpc {}\nprotobuf {}\n", GRPCDX_VERSION, grpc::Version(),
                            google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
      return 0;
    };
  });
}

}  // namespace grpcdx::commands
