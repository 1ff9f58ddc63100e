// Runs the fuzz targets' seed corpora (testdata/fuzz/<target>/) through the same entry points
// libFuzzer calls, in the normal GCC builds (Release and ASan+UBSan): every input a fuzzer ever
// found stays a regression test. Usage: fuzz_seeds TARGET DIR.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define FUZZ_ENTRY(name) extern "C" int fuzz_entry_##name(const uint8_t* data, size_t size);
FUZZ_ENTRY(duration)
FUZZ_ENTRY(target)
FUZZ_ENTRY(metadata)
FUZZ_ENTRY(fault_spec)
FUZZ_ENTRY(rules)
FUZZ_ENTRY(replay)
FUZZ_ENTRY(json_request)
FUZZ_ENTRY(probe_bytes)
FUZZ_ENTRY(status_details)
FUZZ_ENTRY(descriptor_set)

int main(int argc, char** argv) {
  struct Target {
    const char* name;
    int (*run)(const uint8_t*, size_t);
  };
  const Target targets[] = {
      {"duration", fuzz_entry_duration},
      {"target", fuzz_entry_target},
      {"metadata", fuzz_entry_metadata},
      {"fault_spec", fuzz_entry_fault_spec},
      {"rules", fuzz_entry_rules},
      {"replay", fuzz_entry_replay},
      {"json_request", fuzz_entry_json_request},
      {"probe_bytes", fuzz_entry_probe_bytes},
      {"status_details", fuzz_entry_status_details},
      {"descriptor_set", fuzz_entry_descriptor_set},
  };
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds TARGET DIR\n");
    return 2;
  }
  const Target* target = nullptr;
  for (const auto& t : targets)
    if (std::strcmp(t.name, argv[1]) == 0) target = &t;
  if (!target) {
    std::fprintf(stderr, "unknown fuzz target '%s'\n", argv[1]);
    return 2;
  }
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(argv[2], ec))
    if (entry.is_regular_file()) files.push_back(entry.path());
  if (ec || files.empty()) {
    std::fprintf(stderr, "no seed inputs in '%s'\n", argv[2]);
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "%s\n", path.filename().c_str());
    target->run(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::printf("%s: %zu seed inputs passed\n", target->name, files.size());
  return 0;
}
