// Reading PostgreSQL settings from the config: connection strings, never
// repeated in messages (they may hold a password), and SQL names.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/reader.h"

namespace kc::pg {

// A libpq connection string; the message never repeats it (it may hold a password).
std::optional<std::string> ReadConninfo(config::TableReader& reader, std::string_view key);

// A table (`table`) or column name, checked as IdentifierProblem does.
std::optional<std::string> ReadSqlName(config::TableReader& reader, std::string_view key,
                                       config::Need need, bool table);

}  // namespace kc::pg
