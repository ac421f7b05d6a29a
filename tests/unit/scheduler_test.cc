// The scheduler that runs shard steps: due order on the clock, a bounded
// pool started as needed, waits cut short by earlier tasks and by Hurry.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "support/fake_clock.h"

namespace kc::core {
namespace {

using namespace std::chrono_literals;

// Counts finished tasks; waits for a number of them with a deadline.
class Done {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 30s, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST(SchedulerTest, TasksRunInDueOrderNoEarlierThanDue) {
  testing::FakeClock clock;
  const Clock::TimePoint t0 = clock.Now();
  std::mutex mu;
  std::vector<std::pair<int, Clock::TimePoint>> ran;
  Done done;
  Scheduler scheduler(1, &clock);
  auto task = [&](int id) {
    return [&, id] {
      {
        std::lock_guard lock(mu);
        ran.emplace_back(id, clock.Now());
      }
      done.Add();
    };
  };
  // The one thread is held and a task is ready while the timed tasks are
  // posted, so the timer (which moves a fake clock only when no task is
  // ready) sees them all before time moves.
  std::mutex gate_mu;
  std::condition_variable gate;
  bool held = false;
  bool open = false;
  scheduler.Post([&] {
    std::unique_lock lock(gate_mu);
    held = true;
    gate.notify_all();
    gate.wait(lock, [&] { return open; });
  });
  {
    std::unique_lock lock(gate_mu);
    ASSERT_TRUE(gate.wait_for(lock, 30s, [&] { return held; }));
  }
  scheduler.Post(task(0));
  scheduler.PostAt(t0 + 3s, task(3));
  scheduler.PostAt(t0 + 1s, task(1));
  scheduler.PostAt(t0 + 2s, task(2));
  scheduler.PostAt(t0 + 2s, task(22));  // same time: posting order
  {
    std::lock_guard lock(gate_mu);
    open = true;
    gate.notify_all();
  }
  ASSERT_TRUE(done.WaitFor(5));
  std::lock_guard lock(mu);
  ASSERT_EQ(ran.size(), 5u);
  const std::vector<std::pair<int, Clock::Duration>> due = {
      {0, 0s}, {1, 1s}, {2, 2s}, {22, 2s}, {3, 3s}};
  for (size_t i = 0; i < due.size(); ++i) {
    EXPECT_EQ(ran[i].first, due[i].first) << i;
    EXPECT_GE(ran[i].second - t0, due[i].second) << i;
  }
  EXPECT_EQ(scheduler.threads(), 1u);
}

TEST(SchedulerTest, AnEarlierTaskCutsTheWaitForALaterOneShort) {
  Scheduler scheduler(2, &Clock::Real());
  Done later;
  Done sooner;
  scheduler.PostAt(Clock::Real().Now() + 1h, [&] { later.Add(); });
  scheduler.PostAt(Clock::Real().Now(), [&] { sooner.Add(); });
  EXPECT_TRUE(sooner.WaitFor(1));
  EXPECT_EQ(later.count(), 0);
}

TEST(SchedulerTest, HurryRunsEveryWaitingTaskAtOnceAndLaterOnesToo) {
  Scheduler scheduler(2, &Clock::Real());
  Done done;
  scheduler.PostAt(Clock::Real().Now() + 1h, [&] { done.Add(); });
  scheduler.PostAt(Clock::Real().Now() + 2h, [&] { done.Add(); });
  scheduler.Hurry();
  EXPECT_TRUE(done.WaitFor(2));
  scheduler.PostAt(Clock::Real().Now() + 1h, [&] { done.Add(); });
  EXPECT_TRUE(done.WaitFor(3));
}

TEST(SchedulerTest, ThreadsStartOnlyWhenNeededAndNeverBeyondTheBound) {
  Scheduler scheduler(3, &Clock::Real());
  Done done;
  EXPECT_EQ(scheduler.threads(), 0u);
  // A task waiting for later needs no pool thread yet; a ready one needs one.
  scheduler.PostAt(Clock::Real().Now() + 1h, [] {});
  EXPECT_EQ(scheduler.threads(), 0u);
  scheduler.Post([&] { done.Add(); });
  EXPECT_EQ(scheduler.threads(), 1u);
  ASSERT_TRUE(done.WaitFor(1));

  // Ten tasks that block until released: three run, seven wait their turn.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int running = 0;
  int most_running = 0;
  for (int i = 0; i < 10; ++i) {
    scheduler.Post([&] {
      std::unique_lock lock(mu);
      most_running = std::max(most_running, ++running);
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      --running;
      lock.unlock();
      done.Add();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return running == 3; }));
    release = true;
    cv.notify_all();
  }
  ASSERT_TRUE(done.WaitFor(11));
  EXPECT_EQ(most_running, 3);
  EXPECT_EQ(scheduler.threads(), 3u);
}

}  // namespace
}  // namespace kc::core
