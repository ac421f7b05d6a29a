// The built-in components, by the type names the config file uses. The one
// list the daemon knows them by: a new component is its folder and a line
// here.
#pragma once

#include <span>

#include "component/sink.h"

namespace kc::daemon {

// In the order they are listed to users ("known: file, stdout, ...").
std::span<const component::SinkKind> BuiltinSinks();

// The kind whose type is `type`, or null.
const component::SinkKind* FindSink(std::string_view type);

}  // namespace kc::daemon
