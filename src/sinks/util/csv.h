// CSV rows from JSON records (RFC 4180), for the "csv" format.
//
// Each record must be a JSON object; each column is a field path (see
// util/json_fields.h) and becomes one value:
// - a string: its text, quoted when it contains the delimiter, a double
//   quote, CR or LF (quotes doubled); an empty string is written "" so that
//   it stays apart from NULL;
// - a number: as written in the record; true and false as such;
// - an object or array: its compact JSON text (quoted, as it holds quotes);
// - null or a missing field: nothing, unquoted, which PostgreSQL's
//   COPY ... (FORMAT csv) and Redshift's COPY ... CSV read as NULL.
// A value that is exactly "\." is quoted too: alone on a line, PostgreSQL
// would read it as the end of the data.
// Rows end with "\n".
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/json_fields.h"
#include "kc/status.h"

namespace kc::emitter {

// Appends one row for `json`; on error (kParse: the record is not a JSON
// object, with the reason) `out` is left as it was.
Status AppendCsvRow(std::string& out, std::string_view json,
                    std::span<const util::JsonPath> columns, char delimiter);

}  // namespace kc::emitter
