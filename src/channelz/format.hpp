// channelz as people read it (tables, "3.2 s ago") and as scripts read it (channelz's own JSON
// mapping). Pure: the time is passed in, nothing is printed.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "channelz/client.hpp"

namespace grpcdx::channelz {

using SystemTime = std::chrono::system_clock::time_point;

// An address as a person writes it: "127.0.0.1:50051", "[::1]:50051", "unix:/tmp/s", or the
// "other" address's name; "-" when unset.
std::string address_text(const v1::Address& address);

// A timestamp as a time (ms) before `now`; nullopt when unset (the epoch: never).
std::optional<double> ms_before(const google::protobuf::Timestamp& t, SystemTime now);

// "3.2 s ago", "120 ms ago", "2 min ago"; "never" when unset; "0 ms ago" for a time after `now`
// (clocks of two machines differ).
std::string ago(const google::protobuf::Timestamp& t, SystemTime now);

// The tables of `grpcdx channelz TARGET`: servers, each server's sockets, channels,
// subchannels (and their sockets). Ends with a newline.
std::string snapshot_text(const Snapshot& snap, SystemTime now);

// One socket in full (`--socket ID`): every counter, time, window and option it carries.
std::string socket_text(const v1::Socket& socket, SystemTime now);

// {"servers": [...], "sockets": [...], "channels": [...], "subchannels": [...]}, each item in
// channelz's JSON mapping (lowerCamelCase names, int64 as strings), on one line.
std::string snapshot_json(const Snapshot& snap);

// {"socket": {...}} on one line.
std::string socket_json(const v1::Socket& socket);

}  // namespace grpcdx::channelz
