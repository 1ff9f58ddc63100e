# Makes a protoc-generated .pb.cc register its descriptor with the generated pool on first use
# instead of at every start-up: `cmake -DFILE=x.pb.cc -P lazy_descriptors.cmake` removes the
# static AddDescriptorsRunner, whose constructor parses and indexes the whole file (messages.proto
# alone: 0.3 M instructions) before main. protobuf 3.21 still registers the file, with its imports,
# the first time one of its messages asks for its descriptor (AssignDescriptors calls
# AddDescriptors); only a lookup by name in the generated pool needs it done earlier, and the one
# grpcdx makes (server::served_pool) touches the files it looks in first.
cmake_minimum_required(VERSION 3.25)
file(READ "${FILE}" text)
# Matched up to the statement's ';' only: a ';' inside a match would split the list of matches.
set(runner_head "\n[^\n]*static ::_pbi::AddDescriptorsRunner dynamic_init_dummy_[^\n;]*")
set(runner "${runner_head}[^\n]*")
string(REGEX MATCHALL "${runner_head}" found "${text}")
list(LENGTH found count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${FILE}: expected one AddDescriptorsRunner, found ${count}; did protoc's output change?")
endif()
string(REGEX REPLACE "${runner}" "\n// Registered on first use, not at start-up (cmake/lazy_descriptors.cmake)." text "${text}")
file(WRITE "${FILE}.tmp" "${text}")
file(RENAME "${FILE}.tmp" "${FILE}")
