// cluster/signals.h in forked children (a second SIGINT/SIGTERM kills, SIGUSR1
// stays polite) and cluster/resources.h's arithmetic: default threads under
// launcher bindings, device slots.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "cluster/resources.h"
#include "cluster/signals.h"

namespace nds::cluster {
namespace {

// Runs `body` in a forked child, which installs the stop handlers first and
// leaves with _exit(body()), and returns its wait status. The parent's
// handlers and gtest's state stay as they were.
int in_child(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    install_stop_signals();
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// Codes a child exits with when it is still alive where it should not be.
constexpr int kAliveAfterFirst = 10;
constexpr int kAliveAfterSecond = 11;

bool died_of(int status, int sig) {
  return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "died of signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

TEST(StopSignals, SecondSigintEndsTheProcess) {
  const int status = in_child([] {
    raise(SIGINT);
    if (!stop_requested() || stop_signal() != SIGINT) return kAliveAfterFirst;
    raise(SIGINT);
    return kAliveAfterSecond;
  });
  EXPECT_TRUE(died_of(status, SIGINT)) << describe(status);
}

TEST(StopSignals, SigtermAfterSigusr1EndsTheProcess) {
  const int status = in_child([] {
    raise(SIGUSR1);
    if (stop_signal() != SIGUSR1) return kAliveAfterFirst;
    raise(SIGTERM);
    return kAliveAfterSecond;
  });
  EXPECT_TRUE(died_of(status, SIGTERM)) << describe(status);
}

TEST(StopSignals, Sigusr1StaysPolite) {
  const int status = in_child([] {
    for (int i = 0; i < 3; ++i) raise(SIGUSR1);
    return stop_signal() == SIGUSR1 ? 0 : 1;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

TEST(StopSignals, TheFirstSignalStillStopsPolitely) {
  const int status = in_child([] {
    raise(SIGINT);
    const int first = stop_signal();
    raise(SIGUSR1);  // the stop keeps the signal that asked first
    return first == SIGINT && stop_signal() == SIGINT ? 0 : 1;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// The farm's own stop (request_stop) and clear_stop() do not arm the kill.
TEST(StopSignals, OnlyAReceivedSignalArmsTheSecond) {
  const int status = in_child([] {
    request_stop(SIGTERM);
    raise(SIGINT);
    if (!stop_requested()) return 1;
    clear_stop();
    raise(SIGTERM);
    return stop_signal() == SIGTERM ? 0 : 2;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// default_threads(mask_cores, node_cores, trainers_here).
TEST(DefaultThreads, SocketBindingSplitsTheSocketBetweenItsRanks) {
  EXPECT_EQ(default_threads(8, 16, 4), 4);  // 4 ranks on 2 sockets of 8: 2 per socket
  EXPECT_EQ(default_threads(8, 16, 2), 8);  // one rank per socket
  EXPECT_EQ(default_threads(8, 16, 3), 4);  // 1.5 per socket, rounded up to 2
  EXPECT_EQ(default_threads(16, 64, 8), 8);
}

TEST(DefaultThreads, CoreBindingKeepsTheBinding) {
  EXPECT_EQ(default_threads(1, 16, 4), 1);
  EXPECT_EQ(default_threads(1, 16, 16), 1);
  EXPECT_EQ(default_threads(2, 16, 8), 2);  // --map-by ppr:8:node:pe=2
}

TEST(DefaultThreads, UnboundSplitsTheNode) {
  EXPECT_EQ(default_threads(16, 16, 1), 16);
  EXPECT_EQ(default_threads(16, 16, 4), 4);
  EXPECT_EQ(default_threads(16, 16, 3), 5);
  EXPECT_EQ(default_threads(2, 2, 2), 1);
}

TEST(DefaultThreads, MoreRanksThanCoresGetOneEach) {
  EXPECT_EQ(default_threads(4, 4, 8), 1);
  EXPECT_EQ(default_threads(2, 4, 8), 1);  // oversubscribed socket binding
  EXPECT_EQ(default_threads(1, 4, 8), 1);
}

TEST(DefaultThreads, NonsenseCountsStayPositive) {
  EXPECT_EQ(default_threads(0, 0, 0), 1);
  EXPECT_EQ(default_threads(8, 4, 2), 4);  // a node count below the mask: unbound
  EXPECT_EQ(default_threads(4, 16, 0), 4);
}

TEST(DefaultThreads, ThisProcessGetsAtLeastOneOfItsCores) {
  const int t = default_threads(1);
  EXPECT_GE(t, 1);
  EXPECT_LE(t, affinity_cores());
  EXPECT_LE(affinity_cores(), node_cores());
}

TEST(DeviceSlot, SkipsRankZeroOnItsNode) {
  EXPECT_EQ(device_slot(1, true), 0);
  EXPECT_EQ(device_slot(4, true), 3);
  EXPECT_EQ(device_slot(0, true), 0);  // inconsistent launch: never negative
}

TEST(DeviceSlot, IsTheLocalRankElsewhere) {
  EXPECT_EQ(device_slot(0, false), 0);
  EXPECT_EQ(device_slot(3, false), 3);
}

// The wrapper reads the launcher's local rank (Open MPI's variable wins).
TEST(DeviceSlot, ReadsTheLauncherLocalRank) {
  const char* var = "OMPI_COMM_WORLD_LOCAL_RANK";
  const char* old = std::getenv(var);
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv(var, "2", 1);
  EXPECT_EQ(local_rank(), 2);
  EXPECT_EQ(device_slot(true), 1);
  EXPECT_EQ(device_slot(false), 2);
  if (saved)
    setenv(var, saved->c_str(), 1);
  else
    unsetenv(var);
}

}  // namespace
}  // namespace nds::cluster
