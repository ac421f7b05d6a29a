#include "kc/status.h"

namespace kc {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kConfig:
      return "configuration";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAuth:
      return "authentication";
    case ErrorCode::kThrottled:
      return "throttled";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kConnection:
      return "connection";
    case ErrorCode::kExpiredIterator:
      return "expired iterator";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kTrimmed:
      return "trimmed";
    case ErrorCode::kParse:
      return "parse";
    case ErrorCode::kIo:
      return "i/o";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace kc
