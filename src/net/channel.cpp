// Channel factory: credentials (plaintext, TLS, insecure TLS, mTLS) and channel arguments.
#include "net/channel.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/channel_arguments.h>

#include "core/current_step.hpp"

namespace grpcdx::net {

namespace {

constexpr const char* k_system_roots[] = {
    "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu
    "/etc/pki/tls/certs/ca-bundle.crt",    // Fedora, RHEL
    "/etc/ssl/cert.pem",                   // Alpine, macOS
};

std::string system_roots() {
  for (const char* path : k_system_roots) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      return ss.str();
    }
  }
  return {};  // grpc falls back to its own bundled roots
}

}  // namespace

Result<std::string> read_file(const std::string& path, std::string_view what) {
  if (path.empty()) return local_error(fmt::format("cannot read {}: no file name given", what));
  // An ifstream opens a directory and reads it as empty: it would pass for an empty file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return local_error(fmt::format("cannot read {} '{}': it is a directory", what, path), "give a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return local_error(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return local_error(fmt::format("cannot read {} '{}': read error", what, path));
  return ss.str();
}

Result<std::shared_ptr<grpc::Channel>> make_channel(const ConnectionOptions& opt) {
  grpc::ChannelArguments args;
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (opt.cert.empty() != opt.key.empty())
    return usage_error("--cert and --key go together: give both for a client certificate");
  if (opt.plaintext) {
    if (opt.insecure || !opt.cacert.empty() || !opt.cert.empty())
      return usage_error("--plaintext cannot be combined with --insecure, --cacert, --cert or --key");
    creds = grpc::InsecureChannelCredentials();
  } else if (opt.insecure) {
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    if (!opt.cert.empty()) {
      TRY(auto cert, read_file(opt.cert, "client certificate"));
      TRY(auto key, read_file(opt.key, "client key"));
      tls.set_certificate_provider(std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          std::vector<grpc::experimental::IdentityKeyCertPair>{{key, cert}}));
      tls.watch_identity_key_cert_pairs();
    }
    creds = grpc::experimental::TlsCredentials(tls);
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!opt.cacert.empty()) {
      TRY(ssl.pem_root_certs, read_file(opt.cacert, "CA bundle"));
    } else {
      ssl.pem_root_certs = system_roots();
    }
    if (!opt.cert.empty()) {
      TRY(ssl.pem_cert_chain, read_file(opt.cert, "client certificate"));
      TRY(ssl.pem_private_key, read_file(opt.key, "client key"));
    }
    creds = grpc::SslCredentials(ssl);
  }
  if (!creds) return local_error("could not create channel credentials");
  if (!opt.servername.empty()) args.SetSslTargetNameOverride(opt.servername);
  if (!opt.authority.empty()) {
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, opt.authority);
  } else if (opt.target.kind == Target::Kind::unix_socket) {
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
  }
  if (!opt.user_agent.empty()) args.SetUserAgentPrefix(opt.user_agent);
  if (!opt.lb_policy.empty()) args.SetLoadBalancingPolicyName(opt.lb_policy);
  if (opt.keepalive) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*opt.keepalive).count();
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(std::max<int64_t>(ms, 1)));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  if (opt.max_msg_size) args.SetMaxReceiveMessageSize(*opt.max_msg_size);
  else args.SetMaxReceiveMessageSize(-1);
  // Sending is unlimited by default (GRPC_DEFAULT_MAX_SEND_MESSAGE_LENGTH): every argument set
  // costs at start-up, as each layer of the channel copies the arguments.
  // A diagnostic tool wants the first failure, not gRPC's own retries hiding it.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (opt.own_subchannels) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(opt.target.grpc_uri, creds, args);
  if (!channel) return local_error(fmt::format("could not create a channel to '{}'", opt.target.original));
  return channel;
}

Result<void> wait_for_connection(grpc::Channel& channel, const ConnectionOptions& opt) {
  set_current_step(fmt::format("connecting to {}", opt.target.original));
  // The RPC deadline bounds the wait too: against a server that accepts TCP and never speaks
  // HTTP/2, `--timeout 1s` ends in 1 s, not in --connect-timeout.
  const bool rpc_bound = opt.timeout_bounds_connect && opt.rpc_timeout && *opt.rpc_timeout < opt.connect_timeout;
  const Duration wait = rpc_bound ? *opt.rpc_timeout : opt.connect_timeout;
  auto deadline = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(wait);
  auto state = channel.GetState(true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return {};
    if (!channel.WaitForStateChange(state, deadline)) {
      if (rpc_bound)
        return status_error(4,
                            fmt::format("no connection to {} within the --timeout of {}", opt.target.original,
                                        format_duration(wait)),
                            "the server accepts TCP but does not answer; `grpcdx probe` shows which layer is silent");
      return status_error(14,
                          fmt::format("could not connect to {} within {}", opt.target.original,
                                      format_duration(opt.connect_timeout)),
                          "check the address and port; `grpcdx probe` shows which layer fails");
    }
    state = channel.GetState(true);
  }
  return {};
}

Result<std::shared_ptr<grpc::Channel>> open_channel(const ConnectionOptions& opt) {
  TRY(auto channel, make_channel(opt));
  TRY_VOID(wait_for_connection(*channel, opt));
  return channel;
}

Metadata rpc_metadata(const ConnectionOptions& opt) {
  Metadata all = opt.metadata;
  all.insert(all.end(), opt.rpc_metadata.begin(), opt.rpc_metadata.end());
  return all;
}

void prepare_context(grpc::ClientContext& ctx, const ConnectionOptions& opt,
                     std::optional<Duration> timeout_override, RequestKind kind) {
  for (const auto& m : opt.metadata) ctx.AddMetadata(m.key, m.value);
  for (const auto& m : kind == RequestKind::rpc ? opt.rpc_metadata : opt.reflect_metadata)
    ctx.AddMetadata(m.key, m.value);
  auto timeout = timeout_override ? timeout_override : opt.rpc_timeout;
  if (timeout && timeout->count() > 0)
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(*timeout));
}

}  // namespace grpcdx::net
