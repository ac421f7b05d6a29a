// An in-memory Kinesis behind the HttpTransport seam, for unit tests of the
// reader and the pipeline: shards with parents, records with 56-digit
// sequence numbers, closing, trimming, and errors injected per operation.
#pragma once

#include <simdjson.h>

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/json_writer.h"
#include "clients/aws/aws_json_client.h"
#include "clients/aws/credentials.h"
#include "clients/aws/http.h"
#include "clients/kinesis/client.h"
#include "kc/clock.h"

namespace kc::testing {

class FakeKinesis final : public aws::HttpTransport {
 public:
  struct Shard {
    std::string id;
    std::string parent;
    std::string adjacent;
    std::vector<Record> records;
    bool closed = false;
    size_t trimmed = 0;  // records before this index are gone
  };

  void AddShard(const std::string& id, const std::string& parent = "",
                const std::string& adjacent = "") {
    std::lock_guard lock(mu_);
    shards_.push_back(Shard{id, parent, adjacent, {}, false, 0});
  }

  // Appends a record; returns its sequence number.
  std::string Put(const std::string& shard, std::string data, std::string key = "key") {
    std::lock_guard lock(mu_);
    return Append(Find(shard), std::move(data), std::move(key));
  }

  // The Limit of every GetRecords call on `shard`, in order.
  std::vector<uint64_t> GetRecordsLimits(const std::string& shard) {
    std::lock_guard lock(mu_);
    return limits_[shard];
  }

  // The records of `shard` so far, oldest first.
  std::vector<Record> Records(const std::string& shard) {
    std::lock_guard lock(mu_);
    return Find(shard).records;
  }

  void Close(const std::string& shard) {
    std::lock_guard lock(mu_);
    Find(shard).closed = true;
  }
  void Trim(const std::string& shard, size_t before_index) {
    std::lock_guard lock(mu_);
    Find(shard).trimmed = before_index;
  }

  // The next call of `operation` answers this error instead.
  void FailNext(const std::string& operation, long status, const std::string& type) {
    std::lock_guard lock(mu_);
    faults_[operation].push_back({status, type});
  }

  // The next `count` records put are refused one by one inside a successful
  // PutRecords answer, with `error_code`, as Kinesis does when a shard is
  // over its write limit.
  void RefuseNextPuts(int count, const std::string& error_code) {
    std::lock_guard lock(mu_);
    refuse_puts_ = count;
    refuse_code_ = error_code;
  }

  // The next GetRecords answer leaves out NextShardIterator, as a broken
  // proxy might, even if the shard is open.
  void OmitNextIteratorOnce() {
    std::lock_guard lock(mu_);
    omit_next_iterator_ = true;
  }
  // Timestamps every call with `clock`, for tests of pacing and backoff.
  void TimeCallsWith(Clock* clock) {
    std::lock_guard lock(mu_);
    clock_ = clock;
  }
  std::vector<Clock::TimePoint> CallTimes(const std::string& operation) {
    std::lock_guard lock(mu_);
    return call_times_[operation];
  }

  // When each GetRecords call on `shard` came (with TimeCallsWith).
  std::vector<Clock::TimePoint> GetRecordsTimes(const std::string& shard) {
    std::lock_guard lock(mu_);
    return get_records_times_[shard];
  }

  // How many records each PutRecords call held, in order.
  std::vector<size_t> PutRecordsSizes() {
    std::lock_guard lock(mu_);
    return put_sizes_;
  }

  int Calls(const std::string& operation) {
    std::lock_guard lock(mu_);
    return calls_[operation];
  }
  // "TYPE SEQ" of every GetShardIterator request, in order.
  std::vector<std::string> IteratorRequests() {
    std::lock_guard lock(mu_);
    return iterator_requests_;
  }

  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    std::lock_guard lock(mu_);
    const std::string* target = request.Header("X-Amz-Target");
    if (target == nullptr || request.Header("Authorization") == nullptr) {
      return Answer(400, Error("MissingAuthenticationTokenException", "unsigned"));
    }
    std::string op = target->substr(target->find('.') + 1);
    ++calls_[op];
    if (clock_ != nullptr) {
      call_time_ = clock_->Now();
      call_times_[op].push_back(call_time_);
    }
    if (auto& q = faults_[op]; !q.empty()) {
      auto f = q.front();
      q.pop_front();
      return Answer(f.first, Error(f.second, "injected"));
    }
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (parser.parse(request.body).get(body) != simdjson::SUCCESS) {
      return Answer(400, Error("SerializationException", "bad body"));
    }
    if (op == "ListShards") return ListShards();
    if (op == "GetShardIterator") return GetShardIterator(body);
    if (op == "GetRecords") return GetRecords(body);
    if (op == "PutRecords") return PutRecords(body);
    return Answer(400, Error("UnknownOperationException", op));
  }

  // A client whose requests go to this fake, making up to `max_attempts`
  // attempts per call.
  kinesis::KinesisClient Client(std::shared_ptr<FakeKinesis> self, Clock* clock,
                                int max_attempts = 5) {
    aws::AwsJsonClientOptions options{.endpoint = "http://fake.invalid",
                                      .region = "us-east-1",
                                      .service = "kinesis",
                                      .target_prefix = "Kinesis_20131202"};
    auto creds = std::make_shared<aws::StaticCredentialsProvider>(
        aws::Credentials{"AKIDEXAMPLE", "secret", ""});
    return kinesis::KinesisClient(aws::AwsJsonClient(
        options, std::move(self), std::move(creds),
        RetryPolicy(
            RetryOptions{.max_attempts = max_attempts, .base = std::chrono::milliseconds(10)},
            clock),
        clock));
  }

 private:
  static std::string Error(const std::string& type, const std::string& message) {
    util::JsonWriter w;
    w.BeginObject().Field("__type", type).Field("message", message).EndObject();
    return w.Take();
  }
  static std::string Str(simdjson::dom::object o, const char* key) {
    std::string_view v;
    if (o[key].get(v) != simdjson::SUCCESS) return {};
    return std::string(v);
  }
  static aws::HttpResponse Answer(long status, std::string body) {
    aws::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }

  // Appends a record with the next sequence number (increasing across
  // shards, 56 digits like Kinesis's) and returns that number. REQUIRES: mu_.
  std::string Append(Shard& s, std::string data, std::string key) {
    Record r;
    ++counter_;
    std::string digits = std::to_string(counter_);
    r.sequence_number = "4960" + std::string(52 - digits.size(), '0') + digits;
    r.data = std::move(data);
    r.partition_key = std::move(key);
    r.approximate_arrival_ms = 1'795'642'616'000 + static_cast<int64_t>(counter_);
    s.records.push_back(r);
    return r.sequence_number;
  }

  Shard& Find(const std::string& id) {
    for (auto& s : shards_) {
      if (s.id == id) return s;
    }
    throw std::runtime_error("no shard " + id);
  }

  aws::HttpResponse ListShards() {
    util::JsonWriter w;
    w.BeginObject().Key("Shards").BeginArray();
    for (const auto& s : shards_) {
      w.BeginObject().Field("ShardId", s.id);
      if (!s.parent.empty()) w.Field("ParentShardId", s.parent);
      if (!s.adjacent.empty()) w.Field("AdjacentParentShardId", s.adjacent);
      w.Key("SequenceNumberRange").BeginObject().Field("StartingSequenceNumber", "1");
      if (s.closed) w.Field("EndingSequenceNumber", "9" + std::string(55, '9'));
      w.EndObject().EndObject();
    }
    w.EndArray().EndObject();
    return Answer(200, w.Take());
  }

  // Iterators are "<shard>|<index>".
  aws::HttpResponse GetShardIterator(simdjson::dom::object body) {
    std::string shard = Str(body, "ShardId");
    std::string type = Str(body, "ShardIteratorType");
    std::string seq;
    std::string_view v;
    if (body["StartingSequenceNumber"].get(v) == simdjson::SUCCESS) seq = std::string(v);
    iterator_requests_.push_back(type + (seq.empty() ? "" : " " + seq));
    Shard& s = Find(shard);
    size_t index = s.trimmed;
    if (type == "LATEST") {
      index = s.records.size();
    } else if (type == "AT_TIMESTAMP") {
      double seconds = 0;
      if (body["Timestamp"].get(seconds) != simdjson::SUCCESS) {
        return Answer(400, Error("InvalidArgumentException", "no Timestamp"));
      }
      auto ms = static_cast<int64_t>(seconds * 1000.0 + 0.5);
      while (index < s.records.size() && s.records[index].approximate_arrival_ms < ms) ++index;
    } else if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
      size_t i = 0;
      while (i < s.records.size() && s.records[i].sequence_number != seq) ++i;
      if (i == s.records.size() || i < s.trimmed) {
        return Answer(400, Error("InvalidArgumentException", "sequence number not in shard"));
      }
      index = type == "AT_SEQUENCE_NUMBER" ? i : i + 1;
    }
    util::JsonWriter w;
    w.BeginObject().Field("ShardIterator", shard + "|" + std::to_string(index)).EndObject();
    return Answer(200, w.Take());
  }

  // Records go to the first shard (the fake has no hash ranges); their
  // partition keys are kept, so tests can check them.
  aws::HttpResponse PutRecords(simdjson::dom::object body) {
    simdjson::dom::array entries;
    if (body["Records"].get(entries) != simdjson::SUCCESS || shards_.empty()) {
      return Answer(400, Error("InvalidArgumentException", "no Records or no shard"));
    }
    put_sizes_.push_back(entries.size());
    util::JsonWriter w;
    int failed = 0;
    w.BeginObject().Key("Records").BeginArray();
    for (simdjson::dom::object entry : entries) {
      if (refuse_puts_ > 0) {
        --refuse_puts_;
        ++failed;
        w.BeginObject()
            .Field("ErrorCode", refuse_code_)
            .Field("ErrorMessage", "injected")
            .EndObject();
        continue;
      }
      auto data = util::Base64Decode(Str(entry, "Data"));
      if (!data) return Answer(400, Error("SerializationException", "Data is not base64"));
      Shard& s = shards_.front();
      const std::string seq = Append(s, std::move(*data), Str(entry, "PartitionKey"));
      w.BeginObject().Field("SequenceNumber", seq).Field("ShardId", s.id).EndObject();
    }
    w.EndArray().Field("FailedRecordCount", static_cast<int64_t>(failed)).EndObject();
    return Answer(200, w.Take());
  }

  aws::HttpResponse GetRecords(simdjson::dom::object body) {
    std::string it = Str(body, "ShardIterator");
    uint64_t limit = uint64_t(body["Limit"]);
    limits_[it.substr(0, it.find('|'))].push_back(limit);
    auto bar = it.find('|');
    Shard& s = Find(it.substr(0, bar));
    if (clock_ != nullptr) get_records_times_[s.id].push_back(call_time_);
    size_t index = std::max<size_t>(std::stoul(it.substr(bar + 1)), s.trimmed);
    size_t end = std::min(s.records.size(), index + limit);
    util::JsonWriter w;
    w.BeginObject().Key("Records").BeginArray();
    for (size_t i = index; i < end; ++i) {
      const Record& r = s.records[i];
      w.BeginObject()
          .Field("SequenceNumber", r.sequence_number)
          .Key("ApproximateArrivalTimestamp")
          .Double(static_cast<double>(r.approximate_arrival_ms) / 1000.0)
          .Field("Data", util::Base64Encode(r.data))
          .Field("PartitionKey", r.partition_key)
          .EndObject();
    }
    w.EndArray();
    if (omit_next_iterator_) {
      omit_next_iterator_ = false;
    } else if (!(s.closed && end == s.records.size())) {
      w.Field("NextShardIterator", s.id + "|" + std::to_string(end));
    }
    w.Field("MillisBehindLatest", static_cast<int64_t>(end == s.records.size() ? 0 : 1000));
    w.EndObject();
    return Answer(200, w.Take());
  }

  std::mutex mu_;
  std::vector<Shard> shards_;
  uint64_t counter_ = 0;
  std::map<std::string, std::deque<std::pair<long, std::string>>> faults_;
  std::map<std::string, int> calls_;
  std::vector<std::string> iterator_requests_;
  bool omit_next_iterator_ = false;
  std::map<std::string, std::vector<uint64_t>> limits_;  // per shard, in order
  std::vector<size_t> put_sizes_;
  int refuse_puts_ = 0;
  std::string refuse_code_;
  Clock* clock_ = nullptr;
  std::map<std::string, std::vector<Clock::TimePoint>> call_times_;
  Clock::TimePoint call_time_{};  // of the call being answered
  std::map<std::string, std::vector<Clock::TimePoint>> get_records_times_;
};

}  // namespace kc::testing
