// The built-in components, by the type names the config file uses: the one
// list the daemon knows them by. A new component is its folder and a line
// in the list of its kind (builtins.cc).
#pragma once

#include <algorithm>
#include <span>
#include <string_view>
#include <vector>

#include "component/dead_letter.h"
#include "component/sink.h"
#include "component/step.h"
#include "component/store.h"

namespace kc::daemon {

// Each list in the order its types are shown to users ("known: ...").
std::span<const component::SinkKind> BuiltinSinks();
std::span<const component::StoreKind> BuiltinStores();
std::span<const component::TransformerKind> BuiltinTransformers();
std::span<const component::FilterKind> BuiltinFilters();
std::span<const component::DeadLetterKind> BuiltinDeadLetters();

// The kind of `kinds` whose type is `type`, or null.
template <class Kind>
const Kind* Find(std::span<const Kind> kinds, std::string_view type) {
  auto it = std::ranges::find(kinds, type, &Kind::type);
  return it == kinds.end() ? nullptr : &*it;
}

// The types of `kinds`, in order.
template <class Kind>
std::vector<std::string_view> TypesOf(std::span<const Kind> kinds) {
  std::vector<std::string_view> types;
  for (const Kind& kind : kinds) types.push_back(kind.type);
  return types;
}

}  // namespace kc::daemon
