// A fake process environment for the credential providers' GetEnvFn: a map,
// with the real getenv's "unset" answer for names it does not hold.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "clients/aws/credentials.h"

namespace kc::testing {

class FakeEnv {
 public:
  FakeEnv& Set(const std::string& name, const std::string& value) {
    vars_[name] = value;
    return *this;
  }
  void Unset(const std::string& name) { vars_.erase(name); }
  // Reads the map at each call: later Set and Unset calls are seen.
  aws::GetEnvFn Fn() {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace kc::testing
