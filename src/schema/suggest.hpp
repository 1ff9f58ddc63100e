// "did you mean ...?" for a service, method or symbol name the schema does not have. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace grpcdx::schema {

// The names of `known` closest to `wanted`, best first, at most `limit` (ties by name). Names
// are compared without case and with '/' the same as '.', whole or by their last part (so
// "TestService/UnaryCal" finds "grpc.testing.TestService/UnaryCall" and "testservice" finds
// "grpc.testing.TestService"), by edit distance (a swap of two neighbours counts one). A name
// is close when the last parts differ by at most a third of the wanted last part's length (at
// least 1), or the whole names by a tenth of the wanted name's (at least 2). Empty when none is
// close or `wanted` is in `known`.
std::vector<std::string> closest_names(std::string_view wanted, const std::vector<std::string>& known,
                                       size_t limit = 3);

// "; did you mean A?", "; did you mean A or B?", "; did you mean A, B or C?"; "" for none.
std::string did_you_mean(const std::vector<std::string>& names);

}  // namespace grpcdx::schema
