// Base64 encoding and decoding (standard alphabet; decoding also accepts the URL-safe one and
// missing padding, as gRPC does for -bin metadata).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace grpcdx {

std::string base64_encode(std::string_view bytes);

// Returns nullopt when `text` holds a character outside both alphabets or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace grpcdx
