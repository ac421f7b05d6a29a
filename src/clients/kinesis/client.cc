#include "clients/kinesis/client.h"

#include <string>
#include <utility>

namespace kc::kinesis {

Result<std::vector<Shard>> KinesisClient::ListShards(const std::string& stream,
                                                     std::stop_token stop) const {
  std::vector<Shard> all;
  std::string token;
  do {
    auto body = client_.Call("ListShards", ListShardsRequest(stream, token), stop);
    if (!body) return Fail(body.error().With("stream " + stream));
    std::string next;
    auto page = ParseListShardsResponse(*body, &next);
    if (!page) return Fail(page.error().With("stream " + stream));
    for (auto& s : *page) all.push_back(std::move(s));
    if (!next.empty() && next == token) break;  // a server that repeats itself: stop
    token = std::move(next);
  } while (!token.empty());
  return all;
}

Result<StreamSummary> KinesisClient::DescribeStreamSummary(const std::string& stream,
                                                           std::stop_token stop) const {
  auto body = client_.Call("DescribeStreamSummary", StreamRequest(stream), stop);
  if (!body) return Fail(body.error());
  return ParseDescribeStreamSummaryResponse(*body);
}

Result<std::string> KinesisClient::GetShardIterator(const std::string& stream,
                                                    const std::string& shard_id,
                                                    const IteratorSpec& spec,
                                                    std::stop_token stop) const {
  auto body =
      client_.Call("GetShardIterator", GetShardIteratorRequest(stream, shard_id, spec), stop);
  if (!body) return Fail(body.error().With("shard " + shard_id));
  return ParseGetShardIteratorResponse(*body);
}

Result<GetRecordsResult> KinesisClient::GetRecordsOnce(const std::string& iterator, uint32_t limit,
                                                       std::vector<Record>* recycled) const {
  // Each reader thread receives large pages into the same memory (with the
  // curl transport). A fresh megabyte or more a call left the heap holding
  // more than it used (the benchmark's four busy shards peaked some 3 MiB
  // higher), and taking it from the kernel each time cost half as much CPU
  // again in page faults. After a small page (an idle shard's) the memory
  // is let go.
  constexpr size_t kKeepPageMemoryFrom = 256 * 1024;
  thread_local std::string page_memory;
  // A page holds at most 10 MB of data: 13.4 MB in base64, and up to
  // 10,000 records' keys, sequence numbers and field names around it.
  constexpr uint64_t kMaxPageAnswer = 32ull << 20;
  auto body = client_.CallOnce("GetRecords", GetRecordsRequest(iterator, limit), &page_memory,
                               kMaxPageAnswer);
  if (!body) return Fail(body.error());
  // The transport left room after a body whose length it was told, so
  // the page is parsed where it is, without a copy.
  auto page = ParseGetRecordsPage(*body, body->capacity(), limit, recycled);
  if (body->size() >= kKeepPageMemoryFrom) {
    page_memory = std::move(*body);
  } else {
    std::string().swap(page_memory);
  }
  return page;
}

Result<PutRecordsResult> KinesisClient::PutRecords(const std::string& stream,
                                                   const std::vector<PutRecordsEntry>& entries,
                                                   std::stop_token stop) const {
  auto body = client_.Call("PutRecords", PutRecordsRequest(stream, entries), stop);
  if (!body) return Fail(body.error());
  return ParsePutRecordsResponse(*body);
}

Status KinesisClient::CreateStream(const std::string& stream, int shard_count,
                                   std::stop_token stop) const {
  auto body = client_.Call("CreateStream", CreateStreamRequest(stream, shard_count), stop);
  if (!body) return Fail(body.error());
  return Ok();
}

Status KinesisClient::DeleteStream(const std::string& stream, std::stop_token stop) const {
  auto body = client_.Call("DeleteStream", StreamRequest(stream), stop);
  if (!body) return Fail(body.error());
  return Ok();
}

}  // namespace kc::kinesis
