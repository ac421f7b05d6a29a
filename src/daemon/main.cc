// kinesis-connect: runs the pipelines of one TOML file.
//
// Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.
#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "base/units.h"
#include "clients/aws/aws_context.h"
#include "daemon/builtins.h"
#include "daemon/components.h"
#include "daemon/config.h"
#include "daemon/metrics_server.h"
#include "daemon/online_checks.h"
#include "daemon/progress.h"
#include "daemon/status_report.h"
#include "daemon/version.h"
#include "kc/pipeline.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

std::optional<kc::Config> Load(const std::string& path) {
  auto config = kc::LoadConfigFile(path);
  if (!config) {
    for (const auto& p : config.error()) std::cerr << p.ToString(path) << "\n";
    std::cerr << config.error().size() << " problem" << (config.error().size() == 1 ? "" : "s")
              << " in " << path << "\n";
    return std::nullopt;
  }
  return std::move(*config);
}

// The first SIGINT/SIGTERM asks for a graceful stop; a second one ends the
// process at once. Signals are taken by one thread with sigwait, so no code
// runs in a signal handler.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // wakes the watcher when the process is done
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  void Start(std::stop_source* stop) {
    thread_ = std::jthread([this, stop] {
      int count = 0;
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0) continue;
        if (sig == SIGUSR1) {
          if (done_.load()) return;  // the process is finishing
          continue;                  // a stray SIGUSR1 from outside: ignore it
        }
        if (++count == 1) {
          spdlog::info(
              "signal {}: stopping; emitting and checkpointing what was read "
              "(send it again to exit at once)",
              sig);
          stop->request_stop();
        } else {
          spdlog::warn("second signal: exiting now without checkpointing the batches in flight");
          std::fflush(nullptr);
          std::_Exit(kExitFailure);
        }
      }
    });
  }
  ~SignalWatcher() {
    if (thread_.joinable()) {
      done_.store(true);
      pthread_kill(thread_.native_handle(), SIGUSR1);
    }
  }

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::jthread thread_;
};

// One line per pipeline: what it read and wrote since the start.
void LogStats(const std::vector<std::unique_ptr<kc::Pipeline>>& pipelines,
              std::chrono::steady_clock::time_point started) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& pipeline : pipelines) {
    auto s = pipeline->stats();
    spdlog::info(
        "pipeline {}: {} records read, {} emitted ({} bytes) in {} batches, {} filtered, {} "
        "dead-lettered; {} shards read, {} finished; {:.2f} s",
        pipeline->options().name, s.records_read, s.records_emitted, s.bytes_emitted,
        s.batches_emitted, s.records_filtered, s.records_dead_lettered, s.shards_started,
        s.shards_finished, seconds);
  }
}

// Backfill progress on a terminal: one line per pipeline, redrawn in place
// every second; drawn afresh below when a log line came in between.
class TerminalProgress {
 public:
  explicit TerminalProgress(std::vector<const kc::Pipeline*> pipelines)
      : progress_(std::move(pipelines)) {}
  void Draw() {
    std::string out;
    if (drawn_ > 0 && kc::log::LinesLogged() == logged_) out += fmt::format("\x1b[{}F", drawn_);
    const auto figures = progress_.Sample(std::chrono::steady_clock::now());
    for (const auto& f : figures) out += "\x1b[2K" + kc::daemon::FormatProgress(f) + "\n";
    std::fputs(out.c_str(), stderr);
    drawn_ = figures.size();
    logged_ = kc::log::LinesLogged();
  }

 private:
  kc::daemon::Progress progress_;
  size_t drawn_ = 0;
  uint64_t logged_ = 0;
};

int Run(const kc::Config& config, bool once, std::chrono::milliseconds stats_interval) {
  // First: every thread started from here on (the metrics server's, the
  // clients') inherits the blocked signals, so that only the watcher takes
  // them.
  SignalWatcher signals;
  for (const std::string& warning : kc::aws::TlsWarnings(config.aws)) {
    spdlog::warn("{}", warning);
  }
  auto store = kc::core::MakeCheckpointStore(config);
  if (!store) {
    spdlog::error("{}", store.error().message());
    return kExitConfig;
  }
  std::vector<std::unique_ptr<kc::Pipeline>> pipelines;
  for (const auto& p : config.pipelines) {
    auto parts = kc::core::MakePipelineParts(config.aws, p, *store);
    if (!parts) {
      spdlog::error("{}", parts.error().message());
      return kExitConfig;
    }
    const std::string sink = parts->emitter->Describe();
    kc::PipelineOptions options = p;
    std::string kept_in = (*store)->Describe();
    if (config.leases) {
      auto leases = kc::core::MakeLeaseTable(config, p);
      if (!leases) {
        spdlog::error("{}", leases.error().message());
        return kExitConfig;
      }
      options.leases->worker_id = kc::WorkerIdOf(*config.leases);
      kept_in = (*leases)->Describe() + ", shared as worker " + options.leases->worker_id;
      parts->leases = std::move(*leases);
    }
    auto pipeline = kc::Pipeline::Create(config.aws, options, std::move(*parts), once);
    if (!pipeline) {
      spdlog::error("pipeline {}: {}", p.name, pipeline.error().message());
      return pipeline.error().code() == kc::ErrorCode::kConfig ? kExitConfig : kExitFailure;
    }
    spdlog::info("pipeline {}: stream {} → {}; checkpoints in {}", p.name, p.stream, sink, kept_in);
    pipelines.push_back(std::move(*pipeline));
  }

  // What `check` checks, once the configuration proved buildable and before
  // anything starts: a missing stream, bucket or table, or refused
  // credentials, end the run within seconds, not after retries. A sink,
  // store or dead-letter destination that does not answer for now (a
  // connection refused, a 503) is a warning: the pipelines wait that out,
  // as they do once running.
  bool checked = true;
  kc::daemon::RunOnlineChecks(config, [&checked](const kc::daemon::CheckLine& line) {
    if (line.ok) {
      spdlog::info("check: {}", line.text);
      return;
    }
    const kc::log::Field code(kc::log::Field::kErrorCode, kc::ErrorCodeName(line.error->code()));
    if (line.waited_out) {
      spdlog::warn("check failed, for now: {}; the pipeline waits for it", line.text);
    } else {
      spdlog::error("check failed: {}", line.text);
      checked = false;
    }
  });
  if (!checked) return kExitFailure;
  // Declared after the pipelines, so that it stops serving before they go.
  std::unique_ptr<kc::daemon::MetricsReport> report;
  std::unique_ptr<kc::daemon::MetricsServer> server;
  if (!config.metrics.listen.empty()) {
    std::vector<kc::daemon::MetricsPipeline> reported;
    for (size_t i = 0; i < pipelines.size(); ++i) {
      reported.push_back({pipelines[i].get(), config.pipelines[i].emitter.type});
    }
    report = std::make_unique<kc::daemon::MetricsReport>(std::move(reported));
    auto serving = kc::daemon::MetricsServer::Start(config.metrics.listen, report.get());
    if (!serving) {
      spdlog::error("{}", serving.error().message());
      return kExitConfig;
    }
    server = std::move(*serving);
    const std::string& listen = config.metrics.listen;
    spdlog::info("metrics: http://{}:{}/metrics, /health and /ready",
                 listen.substr(0, listen.rfind(':')), server->port());
  }

  std::stop_source stop;
  std::stop_source abort;
  signals.Start(&stop);
  std::stop_callback not_ready(stop.get_token(), [&] {
    if (report) report->Stopping();
  });

  auto started = std::chrono::steady_clock::now();
  std::vector<std::optional<kc::Status>> results(pipelines.size());
  {
    // Progress while running, every `stats_interval`; stopped once the
    // pipelines' threads below are joined. A backfill (--once) also shows
    // how far it has to go: on a terminal as lines redrawn every second,
    // else as a log line per pipeline with the counts.
    std::vector<const kc::Pipeline*> watched;
    for (const auto& p : pipelines) watched.push_back(p.get());
    const bool terminal = once && isatty(STDERR_FILENO) != 0;
    std::jthread progress;
    if (stats_interval.count() > 0 || terminal) {
      progress = std::jthread([&](std::stop_token done) {
        kc::daemon::Progress backfill(watched);
        TerminalProgress display(watched);
        const auto tick = terminal ? std::chrono::milliseconds(1000) : stats_interval;
        auto next_stats = std::chrono::steady_clock::now() + stats_interval;
        std::mutex mu;
        std::condition_variable_any wake;
        std::unique_lock lock(mu);
        while (!wake.wait_for(lock, done, tick, [] { return false; })) {
          if (done.stop_requested()) return;
          if (terminal) display.Draw();
          if (stats_interval.count() > 0 && std::chrono::steady_clock::now() >= next_stats) {
            next_stats += stats_interval;
            LogStats(pipelines, started);
            if (once && !terminal) {
              for (const auto& f : backfill.Sample(std::chrono::steady_clock::now())) {
                spdlog::info("progress of pipeline {}", kc::daemon::FormatProgress(f));
              }
            }
          }
        }
      });
    }
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < pipelines.size(); ++i) {
      threads.emplace_back([&, i] {
        results[i] = pipelines[i]->Run(stop.get_token(), abort.get_token());
        // One pipeline failing stops the others gracefully.
        if (!*results[i]) {
          if (report) report->Failed(i);
          stop.request_stop();
        }
      });
    }
  }
  LogStats(pipelines, started);
  int code = kExitOk;
  for (size_t i = 0; i < pipelines.size(); ++i) {
    if (!*results[i]) {
      const kc::PipelineOptions& options = pipelines[i]->options();
      const kc::log::Scope fields(options.name, options.stream);
      const kc::log::Field error_code(kc::log::Field::kErrorCode,
                                      kc::ErrorCodeName(results[i]->error().code()));
      spdlog::error("{}", results[i]->error().message());
      code = kExitFailure;
    }
  }
  return code;
}

// One line per kind: "sinks: file stdout ...", in the lists' order.
void PrintComponents(std::ostream& out) {
  auto line = [&](const char* kind, const std::vector<std::string_view>& types) {
    out << kind << ":";
    for (std::string_view type : types) out << " " << type;
    out << "\n";
  };
  line("sinks", kc::daemon::TypesOf(kc::daemon::BuiltinSinks()));
  line("checkpoint stores", kc::daemon::TypesOf(kc::daemon::BuiltinStores()));
  line("transformers", kc::daemon::TypesOf(kc::daemon::BuiltinTransformers()));
  line("filters", kc::daemon::TypesOf(kc::daemon::BuiltinFilters()));
  line("dead letters", kc::daemon::TypesOf(kc::daemon::BuiltinDeadLetters()));
}

// glibc gives each thread that allocates its own malloc arena, up to eight
// per core, and an arena keeps what its threads freed. Records are
// allocated by reader threads and freed, a batch at a time, by emit
// threads, so every extra arena holds a share of freed batches that the
// others cannot reuse. Measured on 2 cores with 4 busy shards
// (bench/throughput.sh, shape a): eight arenas per core 122 MiB of peak RSS,
// two arenas 70.9 MiB, one arena 59.4 MiB at no cost in CPU (the thread
// caches take most allocations without the arena's lock). Larger machines
// get one arena per four cores, so that many reader threads do not all
// queue on one lock; that split is not measured here. An explicit
// MALLOC_ARENA_MAX in the environment still wins.
void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  const unsigned cores = std::thread::hardware_concurrency();
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(1u, cores / 4)));
}

}  // namespace

int main(int argc, char** argv) {
  LimitMallocArenas();
  CLI::App app{"kinesis-connect: moves records from Amazon Kinesis streams into sinks"};
  std::string config_path;
  std::string log_level;   // empty: [log] level, else info
  std::string log_format;  // empty: [log] format, else text
  bool once = false;
  // Accepted before or after the subcommand (fallthrough).
  app.fallthrough();
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error (default: [log] level, else info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", log_format, "text or json (default: [log] format, else text)")
      ->check(CLI::IsMember({"text", "json"}));
  app.set_version_flag(
      "--version", [] { return kc::daemon::VersionText(); },
      "the version, commit, build type and libraries, then exit");
  app.require_subcommand(0, 1);

  auto* run = app.add_subcommand("run", "run the pipelines until SIGINT/SIGTERM (or --once)");
  run->add_option("-c,--config", config_path, "the TOML configuration file")->required();
  run->add_flag("--once", once, "stop when every shard is caught up and everything is emitted");
  std::string stats_interval = "1m";
  run->add_option("--stats-interval", stats_interval,
                  "log each pipeline's counts this often, e.g. 30s; 0s: only at the end")
      ->capture_default_str();
  auto* validate = app.add_subcommand("validate", "check the configuration and list every problem");
  validate->add_option("-c,--config", config_path, "the TOML configuration file")->required();
  bool online = false;
  validate->add_flag("--online", online, "also make the checks of `check`");
  auto* check = app.add_subcommand(
      "check",
      "validate, then check against the services: credentials, streams (exit 1 if any fails)");
  check->add_option("-c,--config", config_path, "the TOML configuration file")->required();
  auto* status = app.add_subcommand("status", "shards, checkpoints and lag of each pipeline");
  status->add_option("-c,--config", config_path, "the TOML configuration file")->required();
  auto* components =
      app.add_subcommand("components",
                         "the types of sinks, checkpoint stores, transformers, filters and "
                         "dead-letter destinations this build knows");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitConfig;
  }

  if (app.get_subcommands().empty()) {
    std::cerr << app.help() << "a subcommand is required\n";
    return kExitConfig;
  }
  // The command line's choices now; the file's once it is read.
  auto setup_logs = [&](const kc::LogConfig& file) {
    const std::string& level = !log_level.empty() ? log_level : file.level;
    const std::string& format = !log_format.empty() ? log_format : file.format;
    kc::log::Setup(kc::log::ParseFormat(format).value_or(kc::log::Format::kText),
                   kc::log::ParseLevel(level).value_or(spdlog::level::info));
  };
  setup_logs({});

  if (*components) {
    PrintComponents(std::cout);
    return kExitOk;
  }
  auto config = Load(config_path);
  if (!config) return kExitConfig;
  kc::log::SetSecrets(config->secrets);
  setup_logs(config->log);
  if (*validate) {
    if (config->checkpoint.settings) {
      for (const std::string& note : config->checkpoint.settings->Notes()) {
        std::cout << "note: " << kc::log::Redact(note) << "\n";
      }
    }
    std::cout << config_path << ": ok, " << config->pipelines.size() << " pipeline"
              << (config->pipelines.size() == 1 ? "" : "s") << "\n";
    if (!online) return kExitOk;
  }
  if (*check || online) {
    // One line per check, as each ends.
    const bool ok = kc::daemon::RunOnlineChecks(*config, [](const kc::daemon::CheckLine& line) {
      std::cout << (line.ok ? "ok    " : "FAIL  ") << kc::log::Redact(line.text) << std::endl;
    });
    return ok ? kExitOk : kExitFailure;
  }
  if (*status) {
    // Whole, so that what came from the environment can be hidden in it.
    std::ostringstream report;
    auto s = kc::cli::PrintStatus(*config, report);
    std::cout << kc::log::Redact(report.str());
    if (!s) {
      std::cerr << kc::log::Redact(s.error().message()) << "\n";
      return kExitFailure;
    }
    return kExitOk;
  }
  auto interval = kc::ParseDuration(stats_interval);
  if (!interval) {
    std::cerr << "--stats-interval: " << interval.error().message() << "\n";
    return kExitConfig;
  }
  return Run(*config, once, *interval);
}
