// libnftables through dlopen, and the proxy's loss table over it.
#include "chaos/loss_table.hpp"

#include <dlfcn.h>
#include <linux/capability.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

namespace grpcdx::chaos {

namespace {

constexpr const char* k_library = "libnftables.so.1";
constexpr const char* k_cap_hint =
    "run it as root, or give the binary the capability: setcap cap_net_admin+ep $(command -v grpcdx)";

// The first line of nft's error text that says what failed ("Error: Could not process rule: ...").
std::string first_error_line(std::string_view text) {
  std::string_view fallback;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    if (line.starts_with("Error: ")) return std::string(line.substr(7));
    if (fallback.empty()) fallback = line;
  }
  return fallback.empty() ? "nftables gave no reason" : std::string(fallback);
}

bool process_alive(int64_t pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

}  // namespace

// The few libnftables functions used, resolved with dlsym (the header gives their types).
class Nftables {
 public:
  // Loads the library and makes a context. Fails (local) when the library or a function is missing.
  static Result<std::unique_ptr<Nftables>> load(const std::string& spec) {
    std::unique_ptr<Nftables> n(new Nftables());
    // Never unloaded: the context is freed at the end, and unloading a library with its own
    // dependencies' global state buys nothing in a process about to stop.
    n->m_lib = ::dlopen(k_library, RTLD_NOW | RTLD_LOCAL);
    if (!n->m_lib) {
      const char* why = ::dlerror();
      return local_error(fmt::format("{} needs {} to set nftables rules: {}", spec, k_library, why ? why : "not found"),
                         "install Debian's libnftables1 package");
    }
    TRY_VOID(n->resolve(n->m_new, "nft_ctx_new"));
    TRY_VOID(n->resolve(n->m_free, "nft_ctx_free"));
    TRY_VOID(n->resolve(n->m_run, "nft_run_cmd_from_buffer"));
    TRY_VOID(n->resolve(n->m_buffer_output, "nft_ctx_buffer_output"));
    TRY_VOID(n->resolve(n->m_unbuffer_output, "nft_ctx_unbuffer_output"));
    TRY_VOID(n->resolve(n->m_output, "nft_ctx_get_output_buffer"));
    TRY_VOID(n->resolve(n->m_buffer_error, "nft_ctx_buffer_error"));
    TRY_VOID(n->resolve(n->m_unbuffer_error, "nft_ctx_unbuffer_error"));
    TRY_VOID(n->resolve(n->m_error, "nft_ctx_get_error_buffer"));
    n->m_ctx = n->m_new(NFT_CTX_DEFAULT);
    if (!n->m_ctx) return local_error(fmt::format("{}: nft_ctx_new failed", k_library));
    return n;
  }

  ~Nftables() {
    if (m_ctx) m_free(m_ctx);
  }

  // Runs `script` as one transaction; returns what it printed. Fails (local) with nft's first
  // error line.
  Result<std::string> run(const std::string& script) {
    // Fresh buffers each time, so neither holds an earlier command's text.
    m_buffer_output(m_ctx);
    m_buffer_error(m_ctx);
    int rc = m_run(m_ctx, script.c_str());
    const char* out = m_output(m_ctx);
    const char* err = m_error(m_ctx);
    std::string output = out ? out : "";
    std::string error = err ? err : "";
    m_unbuffer_output(m_ctx);
    m_unbuffer_error(m_ctx);
    if (rc != 0) return local_error(first_error_line(error));
    return output;
  }

 private:
  Nftables() = default;

  template <class F>
  Result<void> resolve(F*& fn, const char* name) {
    fn = reinterpret_cast<F*>(::dlsym(m_lib, name));
    if (!fn) return local_error(fmt::format("{} has no {} (too old?)", k_library, name));
    return {};
  }

  void* m_lib = nullptr;
  nft_ctx* m_ctx = nullptr;
  decltype(::nft_ctx_new)* m_new = nullptr;
  decltype(::nft_ctx_free)* m_free = nullptr;
  decltype(::nft_run_cmd_from_buffer)* m_run = nullptr;
  decltype(::nft_ctx_buffer_output)* m_buffer_output = nullptr;
  decltype(::nft_ctx_unbuffer_output)* m_unbuffer_output = nullptr;
  decltype(::nft_ctx_get_output_buffer)* m_output = nullptr;
  decltype(::nft_ctx_buffer_error)* m_buffer_error = nullptr;
  decltype(::nft_ctx_unbuffer_error)* m_unbuffer_error = nullptr;
  decltype(::nft_ctx_get_error_buffer)* m_error = nullptr;
};

bool has_net_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN)) != 0;
}

LossTable::LossTable(LossPort port)
    : m_port(std::move(port)), m_table(loss_table_name(::getpid(), m_port.port)) {}

LossTable::~LossTable() { remove(); }

Result<void> LossTable::open(const std::string& spec) {
  if (m_port.port == 0)
    return local_error(fmt::format("{} needs a TCP port: the kernel drops the packets of the proxy's port, and a unix "
                                   "socket has none",
                                   spec));
  const auto denied = [&] {
    return local_error(fmt::format("{} needs CAP_NET_ADMIN: the kernel drops the packets through nftables rules on "
                                   "port {}",
                                   spec, m_port.port),
                       k_cap_hint);
  };
  if (!has_net_admin()) return denied();
  TRY(m_nft, Nftables::load(spec));
  // Tables of proxies that were killed (no stop removed them): gone with their process.
  auto listing = m_nft->run("list tables");
  if (!listing) {
    m_nft.reset();
    // CAP_NET_ADMIN of a user namespace does not reach a network namespace it does not own.
    if (listing.error().message.find("Operation not permitted") != std::string::npos) return denied();
    return local_error(fmt::format("cannot read the nftables tables for {}: {}", spec, listing.error().message));
  }
  for (const auto& stale : stale_loss_tables(*listing, process_alive))
    (void)m_nft->run(loss_delete_script(stale));  // best effort: another proxy may be removing it too
  return {};
}

Result<void> LossTable::apply(const FaultSet& set) {
  std::lock_guard lock(m_mutex);
  auto rules = loss_rules(set);
  if (m_removed && !rules.empty()) return local_error("the proxy is stopping: its loss rules are gone");
  if (rules.empty()) {
    if (m_made) {
      auto deleted = m_nft->run(loss_delete_script(m_table));
      if (!deleted)
        return local_error(fmt::format("cannot remove the loss rules on port {} with nftables: {}", m_port.port,
                                       deleted.error().message));
      m_made = false;
    }
    return {};
  }
  if (!m_nft) {
    auto first = std::find_if(set.faults.begin(), set.faults.end(),
                              [](const FaultEntry& e) { return e.spec.kind == FaultKind::loss; });
    TRY_VOID(open(first->spec.text));
  }
  auto done = m_nft->run(loss_script(m_table, m_port, rules));
  if (!done) {
    const std::string& why = done.error().message;
    if (why.find("Operation not permitted") != std::string::npos)
      return local_error(fmt::format("setting the loss rules needs CAP_NET_ADMIN: {}", why), k_cap_hint);
    return local_error(fmt::format("cannot set the loss rules on port {} with nftables: {}", m_port.port, why));
  }
  m_made = true;
  return {};
}

void LossTable::remove() {
  std::lock_guard lock(m_mutex);
  m_removed = true;
  if (m_made && m_nft) (void)m_nft->run(loss_delete_script(m_table));
  m_made = false;
  m_nft.reset();
}

}  // namespace grpcdx::chaos
