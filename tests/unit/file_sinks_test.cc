// The file emitter and the file checkpoint store against a real temporary directory.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/compression.h"
#include "base/files.h"
#include "sinks/file/file_emitter.h"
#include "stores/file/file_checkpoint_store.h"
#include "support/temp_dir.h"

namespace kc {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

ShardKey Key(const std::string& stream, const std::string& shard) {
  return ShardKey{"pipe", stream, shard};
}

Batch MakeBatch() {
  Batch b;
  b.stream = "events";
  b.shard_id = "shardId-000000000001";
  for (int i = 0; i < 3; ++i) {
    Record r;
    r.sequence_number =
        "4959033827149025660855969253836157109592157598913658889" + std::to_string(i);
    r.partition_key = "pk-é";
    r.approximate_arrival_ms = 1795642616123 + i;
    r.data = i == 1 ? std::string("bin\0\xff\n", 6) : "line " + std::to_string(i);
    b.bytes += r.data.size();
    b.records.push_back(r);
  }
  b.first = b.records.front().position();
  b.last = b.records.back().position();
  b.first_arrival_ms = b.records.front().approximate_arrival_ms;
  return b;
}

TEST(FileEmitter, PathIsDeterministicAndDatedFromArrival) {
  TempDir dir;
  emitter::FileEmitter e(dir.path(), FileFormat::kEnvelope);
  Batch b = MakeBatch();
  EXPECT_EQ(e.PathFor(b), dir.path() +
                              "/events/shardId-000000000001/2026/11/25/"
                              "49590338271490256608559692538361571095921575989136588890-"
                              "49590338271490256608559692538361571095921575989136588892.jsonl");
}

TEST(FileEmitter, EnvelopeHoldsExactlyTheRecords) {
  TempDir dir;
  emitter::FileEmitter e(dir.path(), FileFormat::kEnvelope);
  Batch b = MakeBatch();
  ASSERT_TRUE(e.Emit(b, {}));
  auto text = util::ReadFile(e.PathFor(b));
  ASSERT_TRUE(text);
  simdjson::dom::parser parser;
  size_t i = 0;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    ASSERT_NE(end, std::string::npos);
    simdjson::dom::object o = parser.parse(text->substr(start, end - start)).get_object();
    ASSERT_LT(i, b.records.size());
    const Record& r = b.records[i];
    EXPECT_EQ(o.size(), 6u);
    EXPECT_EQ(std::string_view(o["shard_id"]), b.shard_id);
    EXPECT_EQ(std::string_view(o["sequence_number"]), r.sequence_number);
    EXPECT_EQ(uint64_t(o["sub_sequence_number"]), 0u);
    EXPECT_EQ(std::string_view(o["partition_key"]), r.partition_key);
    EXPECT_EQ(int64_t(o["approximate_arrival_timestamp"]), r.approximate_arrival_ms);
    EXPECT_EQ(*util::Base64Decode(std::string_view(o["data"])), r.data);
    ++i;
    start = end + 1;
  }
  EXPECT_EQ(i, 3u);
}

TEST(FileEmitter, LinesAndRawFormats) {
  TempDir dir;
  Batch b = MakeBatch();
  emitter::FileEmitter lines(dir.path() + "/l", FileFormat::kLines);
  emitter::FileEmitter raw(dir.path() + "/r", FileFormat::kRaw);
  ASSERT_TRUE(lines.Emit(b, {}));
  ASSERT_TRUE(raw.Emit(b, {}));
  EXPECT_EQ(*util::ReadFile(lines.PathFor(b)), "line 0\n" + b.records[1].data + "\nline 2\n");
  EXPECT_EQ(*util::ReadFile(raw.PathFor(b)), "line 0" + b.records[1].data + "line 2");
  EXPECT_TRUE(lines.PathFor(b).ends_with(".txt"));
  EXPECT_TRUE(raw.PathFor(b).ends_with(".bin"));
}

TEST(FileEmitter, CompressedFilesReadBackWithTheirExtension) {
  TempDir dir;
  Batch b = MakeBatch();
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    emitter::FileEmitter e(dir.path(), FileFormat::kLines, c);
    ASSERT_TRUE(e.Emit(b, {}));
    std::string path = e.PathFor(b);
    EXPECT_TRUE(path.ends_with(c == Compression::kGzip ? ".txt.gz" : ".txt.zst")) << path;
    auto stored = util::ReadFile(path);
    ASSERT_TRUE(stored);
    auto plain = util::Decompress(*stored, c);
    ASSERT_TRUE(plain) << plain.error().ToString();
    EXPECT_EQ(*plain, "line 0\n" + b.records[1].data + "\nline 2\n");
  }
}

TEST(FileEmitter, CsvRowsFromJsonRecords) {
  TempDir dir;
  Batch b = MakeBatch();
  b.records[0].data = R"({"id":1,"user":{"name":"Ann, \"A\""},"n":null})";
  b.records[1].data = R"({"id":2.50,"user":{"name":""}})";
  b.records[2].data = R"({"id":3,"extra":[1]})";
  auto csv = emitter::CsvColumns::Parse({"id", "user.name", "n"}, ',');
  ASSERT_TRUE(csv);
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    emitter::FileEmitter e(dir.path(), FileFormat::kCsv, c, RetryPolicy(), *csv);
    ASSERT_TRUE(e.Emit(b, {}));
    const std::string path = e.PathFor(b);
    EXPECT_TRUE(path.ends_with(c == Compression::kNone ? ".csv" : ".csv.gz")) << path;
    auto plain = util::Decompress(*util::ReadFile(path), c);
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, "1,\"Ann, \"\"A\"\"\",\n2.50,\"\",\n3,,\n");
  }
}

TEST(FileEmitter, CsvRefusesABadRecordNamingIt) {
  TempDir dir;
  Batch b = MakeBatch();
  b.records[0].data = R"({"id":1})";
  b.records[1].data = "not json";
  b.records[2].data = R"({"id":3})";
  auto csv = emitter::CsvColumns::Parse({"id"}, ',');
  ASSERT_TRUE(csv);
  emitter::FileEmitter e(dir.path(), FileFormat::kCsv, Compression::kNone, RetryPolicy(), *csv);
  auto s = e.Emit(b, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find(b.records[1].sequence_number), std::string::npos)
      << s.error().message();
  EXPECT_FALSE(fs::exists(e.PathFor(b)));
}

TEST(Compression, RoundTripsAndRejectsDamage) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "record " + std::to_string(i % 97) + "\n";
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    auto packed = util::Compress(text, c);
    ASSERT_TRUE(packed);
    EXPECT_LT(packed->size(), text.size() / 5);
    EXPECT_EQ(*util::Decompress(*packed, c), text);
    std::string damaged = *packed;
    damaged[damaged.size() / 2] ^= 0x5a;
    damaged.resize(damaged.size() - 3);
    EXPECT_FALSE(util::Decompress(damaged, c));
    EXPECT_EQ(*util::Decompress(*util::Compress("", c), c), "");
  }
  EXPECT_EQ(*util::Compress("x", Compression::kNone), "x");
}

TEST(FileEmitter, ReplayOverwritesTheSameFile) {
  TempDir dir;
  emitter::FileEmitter e(dir.path(), FileFormat::kLines);
  Batch b = MakeBatch();
  ASSERT_TRUE(e.Emit(b, {}));
  ASSERT_TRUE(e.Emit(b, {}));
  size_t files = 0;
  for (auto& entry : fs::recursive_directory_iterator(dir.path())) {
    if (entry.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 1u);  // no temporary files left behind either
}

void Touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(util::WriteFileAtomically(path.string(), "half a batch"));
}

TEST(FileEmitter, RemovesTheTemporaryFilesAKilledProcessLeftForItsShardWhenItStarts) {
  TempDir dir;
  const fs::path shard = fs::path(dir.path()) / "events" / "shardId-000000000001";
  const fs::path other = fs::path(dir.path()) / "events" / "shardId-000000000002";
  // No process has this id (Linux's pid_max is at most 2^22).
  const std::string gone = "999999999";
  const std::string self = std::to_string(::getpid());
  const fs::path stale1 = shard / "2026/11/25" / (".1-2.txt.tmp." + gone + ".0");
  const fs::path stale2 = shard / "2026/11/26" / (".3.1-4.txt.gz.tmp." + gone + ".17");
  const fs::path live = shard / "2026/11/26" / (".5-6.txt.tmp." + self + ".3");
  const fs::path not_temp = shard / "2026/11/26" / ".notes.tmp";
  const fs::path visible = shard / "2026/11/26" / ("7-8.txt.tmp." + gone + ".0");
  const fs::path other_shard = other / "2026/11/26" / (".1-2.txt.tmp." + gone + ".0");
  for (const fs::path& p : {stale1, stale2, live, not_temp, visible, other_shard}) Touch(p);

  emitter::FileEmitter e(dir.path(), FileFormat::kLines);
  Batch b = MakeBatch();
  ASSERT_TRUE(e.Emit(b, {}));
  EXPECT_FALSE(fs::exists(stale1));
  EXPECT_FALSE(fs::exists(stale2));
  EXPECT_TRUE(fs::exists(live)) << "a live writer's file stays";
  EXPECT_TRUE(fs::exists(not_temp));
  EXPECT_TRUE(fs::exists(visible)) << "only hidden temporary names are touched";
  EXPECT_TRUE(fs::exists(other_shard)) << "another shard's directory is that shard's business";
  EXPECT_TRUE(fs::exists(e.PathFor(b)));

  // Once per shard: later litter is left for the next start.
  Touch(stale1);
  ASSERT_TRUE(e.Emit(b, {}));
  EXPECT_TRUE(fs::exists(stale1));
}

TEST(AtomicWriteTempPid, ReadsOnlyTheNamesWriteFileAtomicallyMakes) {
  EXPECT_EQ(util::AtomicWriteTempPid(".a-b.txt.tmp.123.0"), 123);
  EXPECT_EQ(util::AtomicWriteTempPid(".x.tmp.tmp.7.99"), 7);
  EXPECT_EQ(util::AtomicWriteTempPid(".x.jsonl.tmp.4242.9f86d081884c7d65"), 4242);
  for (std::string_view name : {"a-b.txt.tmp.123.0", ".a.tmp.123", ".a.tmp.x.0", ".a.tmp.1.",
                                ".tmp.1.2", "..tmp.1.2", ".a.txt", ".a.tmp..0", ""}) {
    EXPECT_EQ(util::AtomicWriteTempPid(name), std::nullopt) << name;
  }
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(FileModes, WhatTheConnectorWritesIsTheOwnersAloneUnlessConfigured) {
  TempDir dir;
  const std::string file = dir.path() + "/a/b/state.json";
  ASSERT_TRUE(util::WriteFileAtomically(file, "{}"));
  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_EQ(ModeOf(dir.path() + "/a"), 0700u);
  EXPECT_EQ(ModeOf(dir.path() + "/a/b"), 0700u);
  // Configured modes hold whatever the umask says.
  const mode_t old_umask = ::umask(077);
  const std::string shared = dir.path() + "/shared/out.txt";
  ASSERT_TRUE(util::WriteFileAtomically(shared, "x", {.file = 0640, .dir = 0750}));
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(shared), 0640u);
  EXPECT_EQ(ModeOf(dir.path() + "/shared"), 0750u);

  Batch b = MakeBatch();
  emitter::FileEmitter e(dir.path() + "/out", FileFormat::kLines, Compression::kNone, RetryPolicy(),
                         {}, /*direct_io=*/false);
  ASSERT_TRUE(e.Emit(b, {}));
  EXPECT_EQ(ModeOf(e.PathFor(b)), 0600u);
  EXPECT_EQ(ModeOf(dir.path() + "/out/events"), 0700u);
}

TEST(AtomicFileWriter, NeverWritesThroughALinkPlantedInItsWay) {
  TempDir dir;
  const std::string victim = dir.path() + "/victim";
  ASSERT_TRUE(util::WriteFileAtomically(victim, "keep me"));
  // A link at the target: the rename replaces the link, the victim keeps
  // its bytes.
  const std::string target = dir.path() + "/out/file.txt";
  ASSERT_TRUE(util::CreateDirectories(dir.path() + "/out"));
  ASSERT_EQ(::symlink(victim.c_str(), target.c_str()), 0);
  ASSERT_TRUE(util::WriteFileAtomically(target, "new"));
  EXPECT_EQ(util::ReadFile(victim).value_or(""), "keep me");
  EXPECT_EQ(util::ReadFile(target).value_or(""), "new");
  EXPECT_FALSE(fs::is_symlink(target));
  // The temporary names cannot be guessed: two writes of one path by one
  // process use names that differ in more than a counter.
  std::set<std::string> names;
  for (int i = 0; i < 2; ++i) {
    auto w = util::AtomicFileWriter::Open(target, {});
    ASSERT_TRUE(w);
    for (const auto& entry : fs::directory_iterator(dir.path() + "/out")) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with(".file.txt.tmp.")) names.insert(name);
    }
  }
  ASSERT_EQ(names.size(), 2u);
  const std::string first = *names.begin(), second = *names.rbegin();
  const size_t random_part = first.rfind('.') + 1;
  EXPECT_EQ(first.size() - random_part, 16u) << first;
  size_t differing = 0;
  for (size_t i = random_part; i < first.size(); ++i) differing += first[i] != second[i];
  EXPECT_GT(differing, 4u) << first << " " << second;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Pieces of every awkward size around the alignment and the chunk, with an
// odd tail, as bytes that differ from position to position.
std::vector<std::string> AwkwardPieces() {
  const size_t chunk = util::AtomicFileWriter::kChunkBytes;
  const size_t align = util::AtomicFileWriter::kDirectAlignment;
  std::vector<size_t> sizes = {1,     align - 1, align,     align + 1, 100, chunk - 1,
                               chunk, 7,         chunk + 5, 2 * chunk, 3,   align * 3};
  std::vector<std::string> pieces;
  uint32_t x = 12345;
  for (size_t n : sizes) {
    std::string piece(n, '\0');
    for (char& c : piece) {
      x = x * 1103515245 + 12345;
      c = static_cast<char>(x >> 24);
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

TEST(AtomicFileWriter, WritesEveryPieceAcrossChunksWithAndWithoutDirectIo) {
  for (bool direct : {false, true}) {
    SCOPED_TRACE(direct ? "direct" : "through the page cache");
    TempDir dir;
    const std::string path = dir.path() + "/a/b/out.bin";
    std::string expected;
    auto file = util::AtomicFileWriter::Open(path, {.direct = direct, .modes = {}});
    ASSERT_TRUE(file) << file.error().message();
    for (const std::string& piece : AwkwardPieces()) {
      file->Append(piece);
      file->Append("|");
      expected += piece;
      expected.push_back('|');
    }
    ASSERT_GT(expected.size(), 4 * util::AtomicFileWriter::kChunkBytes);
    EXPECT_FALSE(fs::exists(path)) << "visible before Commit";
    ASSERT_TRUE(file->Commit());
    auto back = util::ReadFile(path);
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == expected)
        << "read back " << back->size() << " bytes, wrote " << expected.size();
    EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"out.bin"});
  }
}

TEST(AtomicFileWriter, AWriterDroppedBeforeCommitLeavesNothing) {
  TempDir dir;
  const std::string path = dir.path() + "/out.bin";
  {
    auto file = util::AtomicFileWriter::Open(path, {.direct = true, .modes = {}});
    ASSERT_TRUE(file);
    file->Append(std::string(3 * util::AtomicFileWriter::kChunkBytes + 17, 'x'));
  }
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(AtomicFileWriter, ReplacesAnOldFileWhole) {
  TempDir dir;
  const std::string path = dir.path() + "/out.bin";
  ASSERT_TRUE(util::WriteFileAtomically(path, std::string(5000, 'o')));
  auto file = util::AtomicFileWriter::Open(path, {.direct = true, .modes = {}});
  ASSERT_TRUE(file);
  file->Append("new");
  EXPECT_EQ(*util::ReadFile(path), std::string(5000, 'o')) << "old content until Commit";
  ASSERT_TRUE(file->Commit());
  EXPECT_EQ(*util::ReadFile(path), "new");
}

TEST(AtomicFileWriter, ANameUnderAFileIsAnErrorNamingIt) {
  TempDir dir;
  ASSERT_TRUE(util::WriteFileAtomically(dir.path() + "/plain", "x"));
  auto file =
      util::AtomicFileWriter::Open(dir.path() + "/plain/out.bin", {.direct = true, .modes = {}});
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message().find(dir.path() + "/plain"), std::string::npos)
      << file.error().message();
}

// A batch larger than the writer's chunk, with and without direct I/O, is
// the same file as the batch formatted whole.
TEST(FileEmitter, LargeBatchesAreTheSameFileWithAndWithoutDirectIo) {
  Batch b = MakeBatch();
  b.records.clear();
  b.bytes = 0;
  for (int i = 0; i < 3000; ++i) {
    Record r;
    r.sequence_number = std::to_string(100000000 + i);
    r.approximate_arrival_ms = 1795642616123;
    r.data = std::string(997, static_cast<char>('a' + i % 26)) + std::to_string(i % 1000);
    b.bytes += r.data.size();
    b.records.push_back(std::move(r));
  }
  b.first = b.records.front().position();
  b.last = b.records.back().position();
  std::string expected;
  ASSERT_TRUE(emitter::AppendFormatted(expected, b, FileFormat::kLines));
  ASSERT_GT(expected.size(), 2 * util::AtomicFileWriter::kChunkBytes);
  for (bool direct : {true, false}) {
    TempDir dir;
    emitter::FileEmitter e(dir.path(), FileFormat::kLines, Compression::kNone, RetryPolicy(), {},
                           direct);
    ASSERT_TRUE(e.Emit(b, {}));
    auto back = util::ReadFile(e.PathFor(b));
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == expected) << (direct ? "direct: " : "buffered: ") << back->size()
                                   << " bytes read back, " << expected.size() << " formatted";
  }
}

TEST(FileCheckpointStore, MissingShardIsEmpty) {
  TempDir dir;
  checkpoint::FileCheckpointStore store(dir.path(), "app");
  auto s = store.Load(Key("events", "shardId-000000000000"));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, ShardCheckpoint{});
}

TEST(FileCheckpointStore, SaveLoadRoundTripAndSurvivesANewInstance) {
  TempDir dir;
  ShardCheckpoint state;
  state.position = ShardPosition{"49590338271490256608559692538361571095921575989136588898", 3};
  state.pending.push_back({{"49590338271490256608559692538361571095921575989136588899", 0},
                           {"49590338271490256608559692538361571095921575989136589000", 0}});
  {
    checkpoint::FileCheckpointStore store(dir.path(), "app");
    ASSERT_TRUE(store.Save(Key("events", "shardId-000000000000"), state));
  }
  checkpoint::FileCheckpointStore again(dir.path(), "app");
  auto loaded = again.Load(Key("events", "shardId-000000000000"));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, state);
  state.shard_end = true;
  state.pending.clear();
  ASSERT_TRUE(again.Save(Key("events", "shardId-000000000000"), state));
  EXPECT_EQ(*again.Load(Key("events", "shardId-000000000000")), state);
  // Namespaced by app, and by pipeline: two sinks of one stream move apart.
  checkpoint::FileCheckpointStore other(dir.path(), "other-app");
  EXPECT_EQ(*other.Load(Key("events", "shardId-000000000000")), ShardCheckpoint{});
  EXPECT_EQ(*again.Load(ShardKey{"another-pipe", "events", "shardId-000000000000"}),
            ShardCheckpoint{});
}

TEST(FileCheckpointStore, DamagedFileIsAClearErrorNamingTheFile) {
  TempDir dir;
  checkpoint::FileCheckpointStore store(dir.path(), "app");
  auto path = store.PathFor(Key("events", "s1"));
  ASSERT_TRUE(path);
  ASSERT_TRUE(util::WriteFileAtomically(*path, "{\"sequence_number\": \"12"));
  auto s = store.Load(Key("events", "s1"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kParse);
  EXPECT_NE(s.error().message().find(*path), std::string::npos);
  ASSERT_TRUE(util::WriteFileAtomically(*path, "{\"sequence_number\": \"12x\"}"));
  EXPECT_FALSE(store.Load(Key("events", "s1")));
}

TEST(FileCheckpointStore, RefusesNamesThatEscapeTheDirectory) {
  TempDir dir;
  checkpoint::FileCheckpointStore store(dir.path(), "app");
  EXPECT_FALSE(store.Save(Key("../x", "s"), {}));
  EXPECT_FALSE(store.Save(Key("events", "a/b"), {}));
  EXPECT_FALSE(store.Load(Key("..", "s")));
  EXPECT_FALSE(store.Load(ShardKey{"a/b", "events", "s"}));
}

}  // namespace
}  // namespace kc
