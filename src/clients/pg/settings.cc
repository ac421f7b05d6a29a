#include "clients/pg/settings.h"

#include "clients/pg/connection.h"

namespace kc::pg {

using config::Need;
using config::TableReader;

std::optional<std::string> ReadConninfo(TableReader& reader, std::string_view key) {
  std::optional<std::string> url = reader.String(key, Need::kRequired);
  if (!url) return std::nullopt;
  if (std::optional<std::string> problem = ConninfoProblem(*url)) {
    reader.Report(key, *problem);
    return std::nullopt;
  }
  return url;
}

std::optional<std::string> ReadSqlName(TableReader& reader, std::string_view key, Need need,
                                       bool table) {
  std::optional<std::string> name = reader.String(key, need);
  if (!name) return std::nullopt;
  if (std::optional<std::string> problem = IdentifierProblem(*name, table)) {
    reader.Report(key, *problem);
    return std::nullopt;
  }
  return name;
}

}  // namespace kc::pg
