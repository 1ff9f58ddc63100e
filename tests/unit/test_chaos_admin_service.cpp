// Unit tests for the pure parts of src/chaos/admin_service: which addresses need a token, and
// the bearer check, the polling engine check.
#include <doctest.h>

#include "chaos/admin_service.hpp"

using namespace grpcdx::chaos;

TEST_CASE("is_local_admin_address: loopback and unix sockets only") {
  CHECK(is_local_admin_address("127.0.0.1:0"));
  CHECK(is_local_admin_address("127.1.2.3:9000"));
  CHECK(is_local_admin_address("localhost:9000"));
  CHECK(is_local_admin_address("[::1]:9000"));
  CHECK(is_local_admin_address("unix:/tmp/chaos.sock"));
  CHECK(!is_local_admin_address("0.0.0.0:9000"));
  CHECK(!is_local_admin_address("[::]:9000"));
  CHECK(!is_local_admin_address("10.0.0.5:9000"));
  CHECK(!is_local_admin_address("example.com:9000"));
  CHECK(!is_local_admin_address(":9000"));
}

TEST_CASE("admin_authorized: the exact bearer token, or anything without a token") {
  CHECK(admin_authorized("", {}));
  CHECK(admin_authorized("s3cret", {"Bearer s3cret"}));
  CHECK(admin_authorized("s3cret", {"Bearer nope", "Bearer s3cret"}));
  CHECK(!admin_authorized("s3cret", {}));
  CHECK(!admin_authorized("s3cret", {"Bearer s3cre"}));
  CHECK(!admin_authorized("s3cret", {"Bearer s3cret2"}));
  CHECK(!admin_authorized("s3cret", {"s3cret"}));
  CHECK(!admin_authorized("s3cret", {"bearer s3cret"}));
}

TEST_CASE("process_wide_polling: epoll1 first, as C-core picks it") {
  CHECK(process_wide_polling(nullptr));
  CHECK(process_wide_polling(""));
  CHECK(process_wide_polling("all"));
  CHECK(process_wide_polling("epoll1"));
  CHECK(process_wide_polling("epoll1,poll"));
  CHECK(!process_wide_polling("poll"));
  CHECK(!process_wide_polling("poll,epoll1"));
  CHECK(!process_wide_polling("none"));
}
