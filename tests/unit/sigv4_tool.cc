// Test-only: signs requests read as JSON lines on stdin with kc::aws::SignRequest
// and prints one JSON line per request, so sigv4_crosscheck.py can compare
// the results with an independent signer.
//
// Input, one object per line:
//   {"method": "PUT", "url": "https://host/path?query",
//    "headers": [["Name", "value"], ...],   // repeated names allowed
//    "body_b64": "...",                     // the body, base64
//    "region": "us-east-1", "service": "s3", "unix_millis": 1440938160000,
//    "access_key_id": "...", "secret_access_key": "...", "session_token": "",
//    "s3": true,                            // single encoding + x-amz-content-sha256
//    "unsigned_payload": false}
// Output, one object per line:
//   {"authorization": "...", "x_amz_content_sha256": "...", "host": "...",
//    "canonical_request": "..."}
// or {"error": "..."} when signing (or reading the line) fails.
#include <simdjson.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "clients/aws/sigv4.h"

namespace {

using kc::aws::HttpRequest;

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (b < 0x20) {
      out += "\\u00";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0f]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string ErrorLine(std::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonString(out, message);
  out += "}";
  return out;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 1) out.push_back(',');
  AppendJsonString(out, name);
  out.push_back(':');
  AppendJsonString(out, value);
}

std::string SignLine(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc) != simdjson::SUCCESS) return ErrorLine("bad JSON");

  HttpRequest request;
  kc::aws::Credentials creds;
  kc::aws::SigningOptions options;
  std::string_view text;
  std::string_view body_b64;
  int64_t unix_millis = 0;
  bool s3 = false;
  if (doc["method"].get(text) != simdjson::SUCCESS) return ErrorLine("no method");
  request.method = std::string(text);
  if (doc["url"].get(text) != simdjson::SUCCESS) return ErrorLine("no url");
  request.url = std::string(text);
  if (doc["region"].get(text) != simdjson::SUCCESS) return ErrorLine("no region");
  options.region = std::string(text);
  if (doc["service"].get(text) != simdjson::SUCCESS) return ErrorLine("no service");
  options.service = std::string(text);
  if (doc["access_key_id"].get(text) != simdjson::SUCCESS) return ErrorLine("no access_key_id");
  creds.access_key_id = std::string(text);
  if (doc["secret_access_key"].get(text) != simdjson::SUCCESS) {
    return ErrorLine("no secret_access_key");
  }
  creds.secret_access_key = std::string(text);
  if (doc["session_token"].get(text) == simdjson::SUCCESS) creds.session_token = std::string(text);
  if (doc["unix_millis"].get(unix_millis) != simdjson::SUCCESS) return ErrorLine("no unix_millis");
  if (doc["s3"].get(s3) != simdjson::SUCCESS) s3 = false;
  if (doc["unsigned_payload"].get(options.unsigned_payload) != simdjson::SUCCESS) {
    options.unsigned_payload = false;
  }
  options.double_uri_encode = !s3;
  options.add_content_sha256_header = s3;

  if (doc["body_b64"].get(body_b64) == simdjson::SUCCESS) {
    auto body = kc::util::Base64Decode(body_b64);
    if (!body) return ErrorLine("bad body_b64");
    request.body = std::move(*body);
  }
  simdjson::dom::array headers;
  if (doc["headers"].get(headers) == simdjson::SUCCESS) {
    for (simdjson::dom::element pair : headers) {
      std::string_view name;
      std::string_view value;
      if (pair.at(0).get(name) != simdjson::SUCCESS || pair.at(1).get(value) != simdjson::SUCCESS) {
        return ErrorLine("headers must be [name, value] pairs");
      }
      // Appended, not SetHeader: repeated names must reach the signer.
      request.headers.push_back({std::string(name), std::string(value)});
    }
  }

  if (auto s = kc::aws::SignRequest(request, creds, options, unix_millis); !s) {
    return ErrorLine(s.error().ToString());
  }
  auto canonical = kc::aws::BuildCanonicalRequest(request, options);
  if (!canonical) return ErrorLine(canonical.error().ToString());

  auto header = [&](std::string_view name) {
    const std::string* v = request.Header(name);
    return v ? std::string_view(*v) : std::string_view();
  };
  std::string out = "{";
  AppendField(out, "authorization", header("Authorization"));
  AppendField(out, "x_amz_content_sha256", header("x-amz-content-sha256"));
  AppendField(out, "host", header("Host"));
  AppendField(out, "canonical_request", canonical->text);
  out += "}";
  return out;
}

}  // namespace

int main() {
  simdjson::dom::parser parser;
  std::string line;
  std::string out;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    out = SignLine(parser, line);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
