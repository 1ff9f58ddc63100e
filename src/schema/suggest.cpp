// Close-name suggestions by edit distance, for names a schema does not have.
#include "schema/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace grpcdx::schema {

namespace {

// Lower case, '/' as '.', no leading '.' or '/'.
std::string normalized(std::string_view name) {
  while (!name.empty() && (name.front() == '.' || name.front() == '/')) name.remove_prefix(1);
  std::string out;
  out.reserve(name.size());
  for (char c : name) out += c == '/' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view last_part(std::string_view name) {
  size_t cut = name.rfind('.');
  return cut == std::string_view::npos ? name : name.substr(cut + 1);
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost 1.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::vector<std::string> closest_names(std::string_view wanted, const std::vector<std::string>& known,
                                       size_t limit) {
  const std::string whole = normalized(wanted);
  const std::string_view last = last_part(whole);
  if (whole.empty()) return {};
  const size_t whole_limit = std::max<size_t>(2, whole.size() / 10);
  const size_t last_limit = std::max<size_t>(1, last.size() / 3);
  std::vector<std::tuple<size_t, size_t, std::string>> scored;
  for (const auto& name : known) {
    if (name == wanted) return {};
    const std::string candidate = normalized(name);
    const size_t by_whole = edit_distance(whole, candidate);
    const size_t by_last = edit_distance(last, last_part(candidate));
    // A whole name that differs is worth a little more than the same distance in the last part.
    if (by_whole <= whole_limit || by_last <= last_limit)
      scored.emplace_back(std::min(by_whole, by_last + 1), by_whole, name);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (auto& [score, by_whole, name] : scored) {
    if (out.size() >= limit) break;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  return out;
}

std::string did_you_mean(const std::vector<std::string>& names) {
  if (names.empty()) return {};
  std::string out = "; did you mean " + names.front();
  for (size_t i = 1; i < names.size(); ++i) out += (i + 1 == names.size() ? " or " : ", ") + names[i];
  return out + "?";
}

}  // namespace grpcdx::schema
