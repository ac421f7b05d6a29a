// A checkpoint store as the daemon sees it: settings read from [checkpoint]
// by the store's own reader, then built into the CheckpointStore that every
// pipeline of the process shares.
//
// Each store's folder (src/stores/<name>/) holds a StoreConfig of its own,
// the function that reads it and its Build; the daemon's list of built-in
// components names each store with one StoreKind. `store` (the type) and
// `app` (the namespace of every store's keys) are the daemon's to read.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "component/check.h"
#include "kc/aws.h"
#include "kc/checkpoint.h"
#include "kc/lease.h"
#include "kc/status.h"

namespace kc::config {
class TableReader;
}

namespace kc::component {

struct StoreReadContext {
  std::string_view app;  // [checkpoint] app, as given or by default
};

struct StoreContext {
  const AwsConfig& aws;
  std::string app;
  // Pipelines (by name) whose keys carry an app of their own
  // ([[pipeline]] checkpoint_app; the redis store's keys name no pipeline).
  std::map<std::string, std::string> pipeline_apps;
};

class StoreConfig {
 public:
  StoreConfig() = default;
  StoreConfig(const StoreConfig&) = default;
  StoreConfig& operator=(const StoreConfig&) = default;
  virtual ~StoreConfig() = default;

  virtual Result<std::shared_ptr<CheckpointStore>> Build(const StoreContext& context) const = 0;
  // The store's table, server or directory, checked with a read-only call;
  // a table the store creates may be missing.
  virtual Checks Check(const CheckContext& context) const = 0;
  // What `validate` should tell about these settings that is not a problem
  // (one line each), such as where a relative path will be.
  virtual std::vector<std::string> Notes() const { return {}; }

  // [leases]: whether several processes can share this store's leases, and
  // the lease table of one pipeline (`table`: its name in the store).
  virtual bool KeepsLeases() const { return false; }
  virtual Result<std::shared_ptr<LeaseTable>> BuildLeases(
      const StoreContext& context, const std::string& table,
      std::chrono::milliseconds call_timeout) const {
    (void)context, (void)table, (void)call_timeout;
    return Fail(ErrorCode::kConfig, "this checkpoint store keeps no leases");
  }
  // The lease table `table`, checked with a read-only call (it may be
  // missing: it is created at the first start).
  virtual Checks CheckLeases(const CheckContext& context, const std::string& table) const {
    (void)context, (void)table;
    return {};
  }
};

// Reads a store's own keys of [checkpoint]; as SinkReader does for sinks.
using StoreReader = std::unique_ptr<StoreConfig> (*)(config::TableReader& table,
                                                     const StoreReadContext& context);

struct StoreKind {
  std::string_view type;  // [checkpoint] store
  StoreReader read;
};

}  // namespace kc::component
