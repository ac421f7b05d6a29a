// An in-memory S3 behind the HttpTransport seam, for unit tests of the S3
// client's callers: PUT and multipart uploads (with failures injected per
// part and a Complete whose answer is lost), HEAD, and abort.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "clients/aws/http.h"

namespace kc::testing {

class FakeS3 final : public aws::HttpTransport {
 public:
  struct Call {
    std::string method;
    std::string url;
  };

  Result<aws::HttpResponse> Send(const aws::HttpRequest& request) override {
    std::lock_guard lock(mu_);
    calls.push_back({request.method, request.url});
    aws::HttpResponse r;
    r.status = 200;
    const std::string& url = request.url;
    auto query = url.find('?');
    std::string path = url.substr(0, query);
    std::string q = query == std::string::npos ? "" : url.substr(query + 1);
    if (request.method == "PUT" && q.find("partNumber=") != std::string::npos) {
      int number = std::stoi(q.substr(q.find("partNumber=") + 11));
      if (on_part) on_part(number);
      if (fail_part[number] > 0) {
        --fail_part[number];
        r.status = 500;
        r.body = "<Error><Code>InternalError</Code><Message>try again</Message></Error>";
        return r;
      }
      parts[number] = request.body;
      r.headers.push_back({"ETag", "\"etag-" + std::to_string(number) + "\""});
      return r;
    }
    if (request.method == "PUT" && fail_all_puts) {
      r.status = 500;
      r.body = "<Error><Code>InternalError</Code><Message>down</Message></Error>";
      return r;
    }
    if (request.method == "PUT") {
      objects[path] = request.body;
      headers[path] = request.headers;
      r.headers.push_back({"ETag", "\"x\""});
      return r;
    }
    if (request.method == "POST" && q.starts_with("uploads")) {
      r.body =
          "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
          "<UploadId>up-1</UploadId></InitiateMultipartUploadResult>";
      return r;
    }
    if (request.method == "HEAD") {
      if (!objects.contains(path)) r.status = 404;
      r.headers.push_back({"Content-Length", "0"});
      return r;
    }
    if (request.method == "POST" && q.starts_with("uploadId=") && complete_answers_lost > 0) {
      // The upload completes, but the answer never arrives; a retry then
      // finds the upload gone.
      --complete_answers_lost;
      std::string whole;
      for (auto& [n, body] : parts) whole += body;
      objects[path] = whole;
      upload_gone = true;
      r.status = 500;
      r.body = "<Error><Code>InternalError</Code><Message>lost</Message></Error>";
      return r;
    }
    if (request.method == "POST" && q.starts_with("uploadId=") && upload_gone) {
      r.status = 404;
      r.body = "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>";
      return r;
    }
    if (request.method == "POST" && q.starts_with("uploadId=")) {
      std::string whole;
      for (auto& [n, body] : parts) whole += body;
      objects[path] = whole;
      r.body = "<CompleteMultipartUploadResult><ETag>\"w\"</ETag></CompleteMultipartUploadResult>";
      return r;
    }
    if (request.method == "DELETE" && q.starts_with("uploadId=")) {
      aborted = true;
      r.status = 204;
      return r;
    }
    r.status = 400;
    r.body = "<Error><Code>NotImplemented</Code><Message>fake</Message></Error>";
    return r;
  }

  int Count(const std::string& method, const std::string& needle) {
    int n = 0;
    for (const auto& c : calls) {
      if (c.method == method && c.url.find(needle) != std::string::npos) ++n;
    }
    return n;
  }

  std::mutex mu_;
  std::vector<Call> calls;
  std::map<std::string, std::string> objects;
  std::map<std::string, std::vector<aws::HttpHeader>> headers;
  std::map<int, std::string> parts;
  std::map<int, int> fail_part;  // part number → failures left
  std::function<void(int)> on_part;
  int complete_answers_lost = 0;
  bool upload_gone = false;
  bool aborted = false;
  bool fail_all_puts = false;  // every PutObject answers 500
};

}  // namespace kc::testing
