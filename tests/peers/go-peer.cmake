# The grpc-go peer of the e2e tests (tests/peers/go): built from Debian's grpc-go sources in
# GOPATH mode, nothing downloaded. Its TestService code is generated from grpc-proto's .proto
# files with a protoc-gen-go built from the same sources (golang/protobuf 1.3, the API Debian's
# grpc-go 1.33 is built on: its reflection reads the descriptors that generated code registers).
# Sets GRPCDX_GO_PEER_ENV, the test environment entry: the peer's path, or, when the toolchain is
# missing, why, so that tests/e2e/test_go_peer.py fails saying so instead of skipping.
set(GRPCDX_GOCODE_DIR /usr/share/gocode CACHE PATH "Debian's Go sources (golang-google-grpc-dev)")
find_program(GO_EXECUTABLE go)
set(go_peer_missing "")
if(NOT GO_EXECUTABLE)
  set(go_peer_missing "go not found (install golang-go: scripts/install-deps)")
elseif(NOT EXISTS ${GRPCDX_GOCODE_DIR}/src/google.golang.org/grpc/version.go)
  set(go_peer_missing "grpc-go sources not in ${GRPCDX_GOCODE_DIR} (install golang-google-grpc-dev)")
elseif(NOT EXISTS ${GRPCDX_GOCODE_DIR}/src/github.com/golang/protobuf/protoc-gen-go/main.go)
  set(go_peer_missing "golang/protobuf 1.3 sources not in ${GRPCDX_GOCODE_DIR} (install golang-github-golang-protobuf-1-3-dev)")
endif()

if(go_peer_missing)
  message(WARNING "grpc-go peer not built, e2e.test_go_peer will fail: ${go_peer_missing}")
  set(GRPCDX_GO_PEER_ENV "GRPCDX_GO_PEER_MISSING=${go_peer_missing}")
  return()
endif()

set(go_peer_dir ${CMAKE_BINARY_DIR}/peers)
set(go_peer ${go_peer_dir}/grpcdx-go-peer)
set(go_peer_gopath ${go_peer_dir}/go-path)
set(go_protoc_gen_go ${go_peer_dir}/protoc-gen-go)
# GOCACHE is shared by every build directory of this user (Go's cache is keyed by content, so
# the Release and the sanitizer build compile grpc-go once between them); without HOME it is in
# the build dir. GOENV=off and an empty GOFLAGS keep the user's Go settings out; GOPROXY=off makes
# any attempt to download an error.
if(DEFINED ENV{HOME} AND IS_DIRECTORY "$ENV{HOME}")
  set(go_cache "$ENV{HOME}/.cache/grpcdx-go-build")
else()
  set(go_cache ${go_peer_dir}/go-cache)
endif()
set(go_env ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${go_peer_gopath}:${GRPCDX_GOCODE_DIR}
    GOCACHE=${go_cache} GOPROXY=off GOFLAGS= GOENV=off CGO_ENABLED=0)
set(go_gen_dir ${go_peer_gopath}/src/grpcdxpeer/grpc/testing)
set(go_protos empty messages test)
set(go_generated)
set(go_proto_paths)
foreach(proto ${go_protos})
  list(APPEND go_generated ${go_gen_dir}/${proto}.pb.go)
  list(APPEND go_proto_paths grpc/testing/${proto}.proto)
endforeach()
list(TRANSFORM go_proto_paths PREPEND ${GRPC_PROTO_DIR}/ OUTPUT_VARIABLE go_proto_files)

add_custom_command(
  OUTPUT ${go_protoc_gen_go}
  COMMAND ${go_env} ${GO_EXECUTABLE} build -o ${go_protoc_gen_go} github.com/golang/protobuf/protoc-gen-go
  DEPENDS ${GRPCDX_GOCODE_DIR}/src/github.com/golang/protobuf/protoc-gen-go/main.go
  COMMENT "Building protoc-gen-go (golang/protobuf 1.3) from Debian's sources"
  VERBATIM)
# The files go to grpcdxpeer/grpc/testing (their .proto paths), so the import is
# "grpcdxpeer/grpc/testing" and reflection serves them under their standard names.
add_custom_command(
  OUTPUT ${go_generated}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${go_peer_gopath}/src/grpcdxpeer
  COMMAND ${PROTOC} -I${GRPC_PROTO_DIR} --plugin=protoc-gen-go=${go_protoc_gen_go}
          --go_out=plugins=grpc:${go_peer_gopath}/src/grpcdxpeer ${go_proto_paths}
  DEPENDS ${go_protoc_gen_go} ${go_proto_files}
  COMMENT "Generating the Go code of grpc.testing for the grpc-go peer"
  VERBATIM)
file(GLOB go_peer_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/peers/go/*.go)
add_custom_command(
  OUTPUT ${go_peer}
  COMMAND ${go_env} ${GO_EXECUTABLE} build -o ${go_peer} .
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/peers/go
  DEPENDS ${go_peer_sources} ${go_generated} ${GRPCDX_GOCODE_DIR}/src/google.golang.org/grpc/version.go
  COMMENT "Building the grpc-go peer (grpc-go from ${GRPCDX_GOCODE_DIR})"
  VERBATIM)
add_custom_target(go_peer ALL DEPENDS ${go_peer})
set(GRPCDX_GO_PEER_ENV "GRPCDX_GO_PEER=${go_peer}")
