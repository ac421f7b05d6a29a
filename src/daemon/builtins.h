// The built-in components, by the type names the config file uses. The one
// list the daemon knows them by: a new component is its folder and a line
// here.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "component/sink.h"
#include "component/store.h"

namespace kc::daemon {

// In the order they are listed to users ("known: file, stdout, ...").
std::span<const component::SinkKind> BuiltinSinks();

// Their types, in that order.
std::vector<std::string_view> SinkTypes();

// The kind whose type is `type`, or null.
const component::SinkKind* FindSink(std::string_view type);

std::span<const component::StoreKind> BuiltinStores();
std::vector<std::string_view> StoreTypes();
const component::StoreKind* FindStore(std::string_view type);

}  // namespace kc::daemon
