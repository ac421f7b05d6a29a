// The online check of a directory, on a temporary one: the checks of
// buckets, tables and streams are tested against the stand-ins
// (tests/integration/test_online_checks.py).
#include "component/probes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kc::component {
namespace {

namespace fs = std::filesystem;

class ProbeDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/kc-probes-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    root_ = name;
  }
  void TearDown() override {
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(root_);
  }
  fs::path root_;
};

TEST_F(ProbeDirectoryTest, AWritableDirectoryPasses) {
  Checked c = ProbeDirectory(root_);
  EXPECT_EQ(c.subject, "directory " + root_.string());
  ASSERT_TRUE(c.found) << c.found.error().message();
  EXPECT_EQ(*c.found, "writable");
}

TEST_F(ProbeDirectoryTest, AMissingDirectoryPassesWhenItCanBeCreatedAndIsNotCreated) {
  const fs::path missing = root_ / "a" / "b";
  Checked c = ProbeDirectory(missing);
  ASSERT_TRUE(c.found) << c.found.error().message();
  EXPECT_EQ(*c.found, "not there yet; it is created in " + fs::weakly_canonical(root_).string() +
                          ", writable");
  EXPECT_FALSE(fs::exists(root_ / "a"));
}

TEST_F(ProbeDirectoryTest, AFileWhereTheDirectoryShouldBeFailsNamingIt) {
  const fs::path file = root_ / "f";
  std::ofstream(file) << "x";
  for (const fs::path& p : {file, file / "below"}) {
    Checked c = ProbeDirectory(p);
    ASSERT_FALSE(c.found) << p;
    EXPECT_EQ(c.found.error().code(), ErrorCode::kConfig);
    EXPECT_EQ(c.found.error().message(),
              file.string() + " is not a directory; name a directory for the files");
  }
}

TEST_F(ProbeDirectoryTest, AReadOnlyDirectoryFailsUnlessRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write anywhere";
  fs::permissions(root_, fs::perms::owner_read | fs::perms::owner_exec);
  Checked c = ProbeDirectory(root_ / "new");
  ASSERT_FALSE(c.found);
  EXPECT_EQ(c.found.error().code(), ErrorCode::kIo);
  EXPECT_NE(c.found.error().message().find("is not writable by this user"), std::string::npos);
}

TEST_F(ProbeDirectoryTest, ARelativePathIsCheckedFromTheWorkingDirectory) {
  const fs::path before = fs::current_path();
  fs::current_path(root_);
  Checked missing = ProbeDirectory("state/checkpoints");
  fs::create_directory(root_ / "out");
  Checked there = ProbeDirectory("out");
  fs::current_path(before);
  // Shown whole: a service's working directory is not the shell's.
  const std::string whole = fs::weakly_canonical(root_).string();
  ASSERT_TRUE(missing.found) << missing.found.error().message();
  EXPECT_EQ(*missing.found, "not there yet; it is created in " + whole + ", writable");
  ASSERT_TRUE(there.found) << there.found.error().message();
  EXPECT_EQ(*there.found, "writable, at " + whole + "/out");
}

}  // namespace
}  // namespace kc::component
