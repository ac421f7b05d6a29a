#include "clients/aws/http.h"

#include <strings.h>

namespace kc::aws {
namespace {

const std::string* FindHeader(const std::vector<HttpHeader>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name.size() == name.size() &&
        ::strncasecmp(h.name.data(), name.data(), name.size()) == 0) {
      return &h.value;
    }
  }
  return nullptr;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

const std::string* HttpResponse::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

void HttpRequest::SetHeader(std::string name, std::string value) {
  std::erase_if(headers, [&](const HttpHeader& h) {
    return h.name.size() == name.size() &&
           ::strncasecmp(h.name.data(), name.data(), name.size()) == 0;
  });
  headers.push_back({std::move(name), std::move(value)});
}

}  // namespace kc::aws
