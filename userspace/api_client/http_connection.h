// SPDX-License-Identifier: Apache-2.0
// One keep-alive HTTP/1.1 connection to weftd's API over its unix socket or loopback TCP,
// used synchronously with a deadline on every step. Not thread-safe: ApiClient locks.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "userspace/api_client/client_options.h"
#include "userspace/common/result.h"

namespace weft::api {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpConnection {
 public:
  explicit HttpConnection(ClientOptions options);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request and reads its reply, connecting first when needed. A kept-alive
  // connection that the server closed meanwhile is reopened and the request sent once more,
  // but only when nothing of a reply arrived. Transport failures carry ECONNREFUSED
  // (cannot connect), ETIMEDOUT, or EIO/EPROTO, and name the socket or address.
  Result<HttpReply> roundTrip(std::string_view method, const std::string& target,
                              const std::string& body);

  // "unix:/run/weft/weftd.sock" or "tcp:127.0.0.1:8080", for messages.
  const std::string& peerName() const { return peer_name_; }

 private:
  struct Impl;

  ClientOptions options_;
  std::string peer_name_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::api
