#include "clients/kinesis/wire.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "base/base64.h"
#include "base/hex.h"
#include "base/json_writer.h"
#include "base/names.h"
#include "clients/aws/errors.h"

namespace kc::kinesis {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Error ParseError(std::string_view what, std::string_view detail) {
  return Error(ErrorCode::kParse, std::string(what) + ": " + std::string(detail));
}

Result<element> ParseDocument(std::string_view body, std::string_view what) {
  element doc;
  auto err = ThreadParser().parse(body.data(), body.size()).get(doc);
  if (err != simdjson::SUCCESS) return Fail(ParseError(what, simdjson::error_message(err)));
  if (!doc.is_object()) return Fail(ParseError(what, "the response is not a JSON object"));
  return doc;
}

// Optional string member: empty when absent or null; an error when of another type.
Result<std::string> OptString(const object& obj, std::string_view key, std::string_view what) {
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return std::string();
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) {
    return Fail(ParseError(what, std::string(key) + " is not a string"));
  }
  return std::string(s);
}

Result<std::string> ReqString(const object& obj, std::string_view key, std::string_view what) {
  std::string_view s;
  if (obj[key].get(s) != simdjson::SUCCESS) {
    return Fail(ParseError(what, "missing string " + std::string(key)));
  }
  return std::string(s);
}

// The error for a shard id a server sent that no Kinesis shard has
// (util::NameProblem's rule), shown escaped; nothing when it is one.
std::optional<Error> ShardIdProblem(std::string_view id, std::string_view field) {
  auto problem = util::NameProblem(id);
  if (!problem) return std::nullopt;
  std::string shown;  // quoted and escaped: the server chose these bytes
  util::AppendJsonString(shown, id.substr(0, 160));
  return ParseError("ListShards response", std::string(field) + " " + shown +
                                               " is not a shard id: a shard id " + *problem);
}

Result<Shard> ParseShard(const element& e) {
  constexpr std::string_view kWhat = "ListShards";
  object o;
  if (e.get(o) != simdjson::SUCCESS) return Fail(ParseError(kWhat, "a shard is not an object"));
  Shard s;
  auto id = ReqString(o, "ShardId", kWhat);
  if (!id) return Fail(id.error());
  // A shard is known by its id everywhere after this (iterators, children's
  // parents, checkpoint keys, file and directory names), and "" means "no
  // shard" in a parent field: an id that could not be a Kinesis shard's is
  // refused here, before any of those uses.
  if (auto bad = ShardIdProblem(*id, "ShardId")) return Fail(std::move(*bad));
  s.shard_id = std::move(*id);
  auto parent = OptString(o, "ParentShardId", kWhat);
  if (!parent) return Fail(parent.error());
  if (!parent->empty()) {
    if (auto bad = ShardIdProblem(*parent, "ParentShardId")) return Fail(std::move(*bad));
  }
  s.parent_shard_id = std::move(*parent);
  auto adjacent = OptString(o, "AdjacentParentShardId", kWhat);
  if (!adjacent) return Fail(adjacent.error());
  if (!adjacent->empty()) {
    if (auto bad = ShardIdProblem(*adjacent, "AdjacentParentShardId")) return Fail(std::move(*bad));
  }
  s.adjacent_parent_shard_id = std::move(*adjacent);
  object range;
  if (o["SequenceNumberRange"].get(range) == simdjson::SUCCESS) {
    auto start = OptString(range, "StartingSequenceNumber", kWhat);
    auto end = OptString(range, "EndingSequenceNumber", kWhat);
    if (!start) return Fail(start.error());
    if (!end) return Fail(end.error());
    s.starting_sequence_number = std::move(*start);
    s.ending_sequence_number = std::move(*end);
  }
  object hash;
  if (o["HashKeyRange"].get(hash) == simdjson::SUCCESS) {
    auto start = OptString(hash, "StartingHashKey", kWhat);
    auto end = OptString(hash, "EndingHashKey", kWhat);
    if (!start) return Fail(start.error());
    if (!end) return Fail(end.error());
    s.starting_hash_key = std::move(*start);
    s.ending_hash_key = std::move(*end);
  }
  return s;
}

}  // namespace

const char* IteratorTypeName(IteratorType type) {
  switch (type) {
    case IteratorType::kTrimHorizon:
      return "TRIM_HORIZON";
    case IteratorType::kLatest:
      return "LATEST";
    case IteratorType::kAtSequenceNumber:
      return "AT_SEQUENCE_NUMBER";
    case IteratorType::kAfterSequenceNumber:
      return "AFTER_SEQUENCE_NUMBER";
    case IteratorType::kAtTimestamp:
      return "AT_TIMESTAMP";
  }
  return "TRIM_HORIZON";
}

// --- Requests.

std::string ListShardsRequest(const std::string& stream, const std::string& next_token) {
  util::JsonWriter w;
  w.BeginObject();
  // With a NextToken, the stream name must not be sent again.
  if (next_token.empty()) {
    w.Field("StreamName", stream);
  } else {
    w.Field("NextToken", next_token);
  }
  w.Field("MaxResults", 1000).EndObject();
  return w.Take();
}

std::string StreamRequest(const std::string& stream) {
  util::JsonWriter w;
  w.BeginObject().Field("StreamName", stream).EndObject();
  return w.Take();
}

std::string CreateStreamRequest(const std::string& stream, int shard_count) {
  util::JsonWriter w;
  w.BeginObject().Field("StreamName", stream).Field("ShardCount", shard_count).EndObject();
  return w.Take();
}

std::string GetShardIteratorRequest(const std::string& stream, const std::string& shard_id,
                                    const IteratorSpec& spec) {
  util::JsonWriter w;
  w.BeginObject()
      .Field("StreamName", stream)
      .Field("ShardId", shard_id)
      .Field("ShardIteratorType", IteratorTypeName(spec.type));
  if (spec.type == IteratorType::kAtSequenceNumber ||
      spec.type == IteratorType::kAfterSequenceNumber) {
    w.Field("StartingSequenceNumber", spec.sequence_number);
  }
  if (spec.type == IteratorType::kAtTimestamp) {
    // Seconds with a fraction, as the JSON protocol encodes timestamps.
    w.Key("Timestamp").Double(static_cast<double>(spec.timestamp_ms) / 1000.0);
  }
  w.EndObject();
  return w.Take();
}

std::string GetRecordsRequest(const std::string& iterator, uint32_t limit) {
  util::JsonWriter w;
  w.BeginObject().Field("ShardIterator", iterator).Field("Limit", uint64_t{limit}).EndObject();
  return w.Take();
}

std::string PutRecordsRequest(const std::string& stream,
                              const std::vector<PutRecordsEntry>& entries) {
  util::JsonWriter w;
  w.BeginObject().Field("StreamName", stream).Key("Records").BeginArray();
  for (const auto& e : entries) {
    w.BeginObject()
        .Field("Data", util::Base64Encode(e.data))
        .Field("PartitionKey", e.partition_key);
    if (!e.explicit_hash_key.empty()) w.Field("ExplicitHashKey", e.explicit_hash_key);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

// --- Responses.

// GetRecords pages are the read path's hot spot (up to 10 MB and 10,000
// records each), so they are read with simdjson's On-Demand API: one pass
// over the fields in the order they come, no tree built, each Data string
// base64-decoded straight from the parser's buffer into the record. The
// other responses are small and use the DOM helpers above.
namespace {

namespace od = simdjson::ondemand;

struct PageBuffer {
  od::parser parser;
  std::string padded;  // the body and the padding simdjson reads past its end
};

PageBuffer& ThreadPageBuffer() {
  thread_local PageBuffer buffer;
  return buffer;
}

// The text between the quotes of a raw JSON string token (which may carry
// the whitespace that followed the value), still escaped, in `text`; false
// when the token is not a string. Inlined by force: without that, the page
// parse measured 5% slower (micro_bench ParseGetRecords).
[[gnu::always_inline]] inline bool QuotedText(std::string_view token, std::string_view& text) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  text = token.substr(1, token.size() - 2);
  return true;
}

// The text of a Data string, read from the raw JSON token instead of being
// unescaped into the parser's string buffer: base64 needs no escapes, so
// the common case is a view into the page itself. JSON still allows them
// ("\/" for '/', "\u0041" for 'A'): those are undone into `scratch`. An
// escape that stands for something outside ASCII cannot be base64 and is
// refused here; any other non-alphabet character is refused by the decoder.
Result<std::string_view> DataText(std::string_view token, std::string& scratch) {
  std::string_view text;
  if (!QuotedText(token, text)) return Fail(Error(ErrorCode::kParse, "Data is not a string"));
  if (text.find('\\') == std::string_view::npos) return text;
  scratch.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      scratch.push_back(text[i]);
      continue;
    }
    if (++i == text.size()) return Fail(Error(ErrorCode::kParse, "Data ends inside an escape"));
    switch (text[i]) {
      case 'u': {
        unsigned code = 0;
        for (size_t k = 1; k <= 4; ++k) {
          const int digit = i + k < text.size() ? util::HexDigitValue(text[i + k]) : -1;
          if (digit < 0) return Fail(Error(ErrorCode::kParse, "Data has a malformed \\u escape"));
          code = code * 16 + static_cast<unsigned>(digit);
        }
        if (code >= 0x80) return Fail(Error(ErrorCode::kParse, "Data is not base64 text"));
        scratch.push_back(static_cast<char>(code));
        i += 4;
        break;
      }
      case 'b':
        scratch.push_back('\b');
        break;
      case 'f':
        scratch.push_back('\f');
        break;
      case 'n':
        scratch.push_back('\n');
        break;
      case 'r':
        scratch.push_back('\r');
        break;
      case 't':
        scratch.push_back('\t');
        break;
      case '"':
      case '\\':
      case '/':
        scratch.push_back(text[i]);
        break;
      default:
        return Fail(Error(ErrorCode::kParse, "Data has an unknown escape"));
    }
  }
  return std::string_view(scratch);
}

// A string value as a view: into the page itself when the string has no
// escapes (the common case, and the cheap one: no copy into the parser's
// string buffer), else unescaped by the parser.
simdjson::error_code StringValue(od::value& v, std::string_view& out) {
  if (QuotedText(v.raw_json_token(), out) && out.find('\\') == std::string_view::npos) {
    return simdjson::SUCCESS;
  }
  return v.get_string().get(out);
}

// Fills `rec`, a record in the page's vector (no move per record), fresh or
// recycled: every field is set, and the strings' storage is reused.
Status ParseRecord(od::value value, std::string_view what, Record& rec) {
  rec.sub_sequence_number = 0;
  rec.approximate_arrival_ms = 0;
  od::object r;
  if (value.get_object().get(r) != simdjson::SUCCESS) {
    return Fail(ParseError(what, "a record is not an object"));
  }
  bool has_sequence = false, has_key = false, has_data = false;
  std::string_view data;
  thread_local std::string scratch;  // Data with escapes, undone
  for (auto element : r) {
    if (element.error() != simdjson::SUCCESS) return Fail(ParseError(what, "malformed record"));
    // The field in place: copying it out of the result cost a store
    // forwarding stall per field.
    od::field& field = element.value_unsafe();
    // Keys compared as written: Kinesis never escapes its own field names,
    // and one that did would be missing, an error, never misread.
    const od::raw_json_string key = field.key();
    od::value& v = field.value();
    if (key == "SequenceNumber") {
      std::string_view seq;
      if (StringValue(v, seq) != simdjson::SUCCESS) {
        return Fail(ParseError(what, "missing string SequenceNumber"));
      }
      rec.sequence_number.assign(seq);
      has_sequence = true;
    } else if (key == "PartitionKey") {
      std::string_view pk;
      if (StringValue(v, pk) != simdjson::SUCCESS) {
        return Fail(ParseError(what, "missing string PartitionKey"));
      }
      rec.partition_key.assign(pk);
      has_key = true;
    } else if (key == "Data") {
      // Decoded once the sequence number, which names the record in errors,
      // is known; the view stays valid until the next page is parsed.
      auto text = DataText(v.raw_json_token(), scratch);
      if (!text) return Fail(ParseError(what, "a record's " + text.error().message()));
      data = *text;
      has_data = true;
    } else if (key == "ApproximateArrivalTimestamp") {
      od::json_type type;
      if (v.type().get(type) != simdjson::SUCCESS)
        return Fail(ParseError(what, "malformed record"));
      if (type == od::json_type::null) continue;
      double seconds = 0;
      if (v.get_double().get(seconds) != simdjson::SUCCESS || !std::isfinite(seconds)) {
        return Fail(ParseError(what, "ApproximateArrivalTimestamp is not a number"));
      }
      rec.approximate_arrival_ms = std::llround(seconds * 1000.0);
    }
  }
  if (!has_sequence) return Fail(ParseError(what, "missing string SequenceNumber"));
  if (!IsValidSequenceNumber(rec.sequence_number)) {
    return Fail(
        ParseError(what, "SequenceNumber '" + rec.sequence_number + "' is not a decimal number"));
  }
  if (!has_key) return Fail(ParseError(what, "missing string PartitionKey"));
  if (!has_data) {
    return Fail(ParseError(what, "record " + rec.sequence_number + " has no Data string"));
  }
  // A recycled record's memory is reused only when it is about the size
  // needed: a string that once held a large record would otherwise carry
  // that size from batch to batch, where the buffer counts only what it holds.
  if (const size_t needed = data.size() / 4 * 3;
      rec.data.capacity() > std::max<size_t>(4096, 2 * needed)) {
    std::string().swap(rec.data);  // (assigning an empty string keeps the memory)
  }
  if (Status decoded = util::Base64DecodeInto(data, rec.data); !decoded) {
    return Fail(
        ParseError(what, "record " + rec.sequence_number + " Data: " + decoded.error().message()));
  }
  return Ok();
}

}  // namespace

Result<GetRecordsResult> ParseGetRecordsPage(std::string_view body, size_t capacity, uint32_t limit,
                                             std::vector<Record>* recycled) {
  constexpr std::string_view kWhat = "GetRecords response";
  PageBuffer& buffer = ThreadPageBuffer();
  simdjson::padded_string_view input(body.data(), body.size(), capacity);
  if (capacity < body.size() + simdjson::SIMDJSON_PADDING) {
    buffer.padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    buffer.padded.assign(body);
    input =
        simdjson::padded_string_view(buffer.padded.data(), body.size(), buffer.padded.capacity());
  }
  od::document doc;
  if (auto err = buffer.parser.iterate(input).get(doc); err != simdjson::SUCCESS) {
    return Fail(ParseError(kWhat, simdjson::error_message(err)));
  }
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return Fail(ParseError(kWhat, "the response is not a JSON object"));
  }
  GetRecordsResult out;
  bool has_records = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return Fail(ParseError(kWhat, "malformed JSON"));
    }
    od::value v = field.value();
    od::json_type type;
    if (v.type().get(type) != simdjson::SUCCESS) return Fail(ParseError(kWhat, "malformed JSON"));
    if (key == "Records") {
      od::array records;
      if (v.get_array().get(records) != simdjson::SUCCESS) {
        return Fail(ParseError(kWhat, "missing Records array"));
      }
      has_records = true;
      out.records.clear();
      out.bytes = 0;
      // Room for as many records as the call may return and the body can
      // hold (a record takes more than 128 bytes of JSON), so the vector
      // is not grown and moved record by record.
      out.records.reserve(std::min<size_t>(limit, body.size() / 128));
      for (auto element : records) {
        od::value record;
        if (element.get(record) != simdjson::SUCCESS) {
          return Fail(ParseError(kWhat, "malformed Records array"));
        }
        Record* slot;
        if (recycled != nullptr && !recycled->empty()) {
          slot = &out.records.emplace_back(std::move(recycled->back()));
          recycled->pop_back();
        } else {
          slot = &out.records.emplace_back();
        }
        Record& rec = *slot;
        if (auto parsed = ParseRecord(record, kWhat, rec); !parsed) return Fail(parsed.error());
        out.bytes += rec.data.size();
      }
    } else if (key == "NextShardIterator") {
      if (type == od::json_type::null) continue;
      std::string_view next;
      if (v.get_string().get(next) != simdjson::SUCCESS) {
        return Fail(ParseError(kWhat, "NextShardIterator is not a string"));
      }
      out.next_shard_iterator.assign(next);
    } else if (key == "MillisBehindLatest") {
      if (type == od::json_type::null) continue;
      int64_t behind = 0;
      if (v.get_int64().get(behind) != simdjson::SUCCESS) {
        return Fail(ParseError(kWhat, "MillisBehindLatest is not an integer"));
      }
      out.millis_behind_latest = behind;
    }
  }
  // Past the object's closing brace there must be nothing left.
  if (const char* rest = nullptr; doc.current_location().get(rest) == simdjson::SUCCESS) {
    return Fail(ParseError(kWhat, "trailing content after the JSON object"));
  }
  if (!has_records) return Fail(ParseError(kWhat, "missing Records array"));
  return out;
}

Result<GetRecordsResult> ParseGetRecordsResponse(std::string_view body,
                                                 std::vector<Record>* recycled) {
  return ParseGetRecordsPage(body, 0, 0, recycled);
}

Result<std::vector<Shard>> ParseListShardsResponse(std::string_view body, std::string* next_token) {
  constexpr std::string_view kWhat = "ListShards response";
  auto doc = ParseDocument(body, kWhat);
  if (!doc) return Fail(doc.error());
  object root = doc->get_object().value_unsafe();
  simdjson::dom::array shards;
  if (root["Shards"].get(shards) != simdjson::SUCCESS) {
    return Fail(ParseError(kWhat, "missing Shards array"));
  }
  std::vector<Shard> out;
  for (element e : shards) {
    auto s = ParseShard(e);
    if (!s) return Fail(s.error());
    out.push_back(std::move(*s));
  }
  auto token = OptString(root, "NextToken", kWhat);
  if (!token) return Fail(token.error());
  if (next_token != nullptr) *next_token = std::move(*token);
  return out;
}

Result<StreamSummary> ParseDescribeStreamSummaryResponse(std::string_view body) {
  constexpr std::string_view kWhat = "DescribeStreamSummary response";
  auto doc = ParseDocument(body, kWhat);
  if (!doc) return Fail(doc.error());
  object desc;
  if ((*doc)["StreamDescriptionSummary"].get(desc) != simdjson::SUCCESS) {
    return Fail(ParseError(kWhat, "missing StreamDescriptionSummary"));
  }
  StreamSummary s;
  auto name = ReqString(desc, "StreamName", kWhat);
  if (!name) return Fail(name.error());
  s.stream_name = std::move(*name);
  auto arn = OptString(desc, "StreamARN", kWhat);
  if (!arn) return Fail(arn.error());
  s.stream_arn = std::move(*arn);
  auto status = ReqString(desc, "StreamStatus", kWhat);
  if (!status) return Fail(status.error());
  s.status = std::move(*status);
  int64_t v = 0;
  if (desc["OpenShardCount"].get(v) == simdjson::SUCCESS) s.open_shard_count = static_cast<int>(v);
  if (desc["RetentionPeriodHours"].get(v) == simdjson::SUCCESS) {
    s.retention_hours = static_cast<int>(v);
  }
  return s;
}

Result<PutRecordsResult> ParsePutRecordsResponse(std::string_view body) {
  constexpr std::string_view kWhat = "PutRecords response";
  auto doc = ParseDocument(body, kWhat);
  if (!doc) return Fail(doc.error());
  object root = doc->get_object().value_unsafe();
  PutRecordsResult out;
  int64_t failed = 0;
  if (root["FailedRecordCount"].get(failed) == simdjson::SUCCESS) {
    out.failed_record_count = static_cast<int>(failed);
  }
  simdjson::dom::array records;
  if (root["Records"].get(records) != simdjson::SUCCESS) {
    return Fail(ParseError(kWhat, "missing Records array"));
  }
  for (element e : records) {
    object r;
    if (e.get(r) != simdjson::SUCCESS) return Fail(ParseError(kWhat, "a result is not an object"));
    PutRecordsResultEntry entry;
    auto seq = OptString(r, "SequenceNumber", kWhat);
    auto shard = OptString(r, "ShardId", kWhat);
    auto code = OptString(r, "ErrorCode", kWhat);
    auto message = OptString(r, "ErrorMessage", kWhat);
    if (!seq) return Fail(seq.error());
    if (!shard) return Fail(shard.error());
    if (!code) return Fail(code.error());
    if (!message) return Fail(message.error());
    entry.sequence_number = std::move(*seq);
    entry.shard_id = std::move(*shard);
    entry.error_code = std::move(*code);
    entry.error_message = std::move(*message);
    out.records.push_back(std::move(entry));
  }
  return out;
}

size_t PartitionKeyLength(std::string_view key) {
  size_t length = 0;
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte
    // Characters beyond the Basic Multilingual Plane (four UTF-8 bytes) are
    // two UTF-16 code units.
    length += byte >= 0xF0 ? 2 : 1;
  }
  return length;
}

Error PutRecordsEntryError(const PutRecordsResultEntry& entry) {
  std::string text = entry.error_code.empty() ? "refused without an ErrorCode" : entry.error_code;
  if (!entry.error_message.empty()) text += ": " + entry.error_message;
  const std::string_view code = entry.error_code;
  if (aws::IsOneOf(code, {"ProvisionedThroughputExceededException", "KMSThrottlingException"})) {
    return Error(ErrorCode::kThrottled, std::move(text));
  }
  if (aws::IsOneOf(code, {"AccessDeniedException", "KMSAccessDeniedException"})) {
    return Error(ErrorCode::kAuth, std::move(text) + std::string(aws::kCredentialsHint));
  }
  if (aws::IsOneOf(code, {"KMSDisabledException", "KMSInvalidStateException",
                          "KMSNotFoundException", "KMSOptInRequired"})) {
    return Error(ErrorCode::kInvalidArgument,
                 std::move(text) +
                     " (the stream's encryption key cannot be used; fix the key or "
                     "the stream's encryption settings)");
  }
  // "InternalFailure", and anything unknown: sending again may pass.
  return Error(ErrorCode::kUnavailable, std::move(text));
}

Result<std::string> ParseGetShardIteratorResponse(std::string_view body) {
  auto doc = ParseDocument(body, "GetShardIterator response");
  if (!doc) return Fail(doc.error());
  std::string_view it;
  if ((*doc)["ShardIterator"].get(it) != simdjson::SUCCESS) {
    // A closed shard asked for a position past its end answers null.
    return std::string();
  }
  return std::string(it);
}

}  // namespace kc::kinesis
