// Local files and reflection as one schema: one pool over both, the files' answers first.
#include "schema/combined_source.hpp"

#include <algorithm>
#include <optional>

#include <google/protobuf/descriptor_database.h>

namespace grpcdx::schema {

namespace gp = google::protobuf;

namespace {

class CombinedSource final : public SchemaSource {
 public:
  CombinedSource(std::unique_ptr<SchemaSource> files, std::unique_ptr<SchemaSource> reflection)
      : m_files(std::move(files)), m_reflection(std::move(reflection)) {}

  Result<std::vector<std::string>> list_services() override {
    TRY(auto names, m_files->list_services());
    // A server without reflection still leaves the files' services to list.
    if (auto served = m_reflection->list_services()) names.insert(names.end(), served->begin(), served->end());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  const gp::DescriptorPool& pool() override {
    if (!m_pool) {
      // The reflection pool fetches a file when asked for it, so wrapping it as a database
      // keeps reflection lazy: only what the files lack is ever requested.
      m_file_db.emplace(m_files->pool());
      m_reflection_db.emplace(m_reflection->pool());
      m_merged.emplace(&*m_file_db, &*m_reflection_db);
      m_pool.emplace(&*m_merged);
      m_pool->AllowUnknownDependencies();
    }
    return *m_pool;
  }

  std::optional<Error> last_error() const override { return m_reflection->last_error(); }
  int reflection_requests() const override { return m_reflection->reflection_requests(); }
  std::string reflection_version() const override { return m_reflection->reflection_version(); }
  std::vector<std::string> notes() const override { return m_reflection->notes(); }

 private:
  std::unique_ptr<SchemaSource> m_files, m_reflection;
  std::optional<gp::DescriptorPoolDatabase> m_file_db, m_reflection_db;
  std::optional<gp::MergedDescriptorDatabase> m_merged;
  std::optional<gp::DescriptorPool> m_pool;
};

}  // namespace

std::unique_ptr<SchemaSource> combine_sources(std::unique_ptr<SchemaSource> files,
                                              std::unique_ptr<SchemaSource> reflection) {
  return std::make_unique<CombinedSource>(std::move(files), std::move(reflection));
}

}  // namespace grpcdx::schema
