// SPDX-License-Identifier: Apache-2.0
// Request target and endpoint id parsing for the API router.
#include "userspace/api/request_target.h"

#include <charconv>

#include "userspace/registry/registry.h"

namespace weft::api {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

Status addQueryPair(std::string_view pair, RequestTarget* out) {
  if (pair.empty()) {
    return {};
  }
  size_t eq = pair.find('=');
  auto key = percentDecode(pair.substr(0, eq));
  auto value = percentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
  if (!key || !value) {
    return makeError("query: bad percent escape in " + quoted(pair), registry::kInvalid);
  }
  out->query[*key] = *value;
  return {};
}

}  // namespace

Result<std::string> percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int hi = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return makeError("bad percent escape in " + quoted(text), registry::kInvalid);
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<RequestTarget> parseTarget(std::string_view target) {
  RequestTarget out;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (path.empty() || path.front() != '/') {
    return makeError("target: " + quoted(target) + " does not start with '/'", registry::kInvalid);
  }

  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view raw = path.substr(start, end - start);
    if (!raw.empty()) {
      auto segment = percentDecode(raw);
      if (!segment) {
        return makeError("path: " + segment.error().message, registry::kInvalid);
      }
      if (segment->find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
        return makeError("path: segment " + quoted(raw) + " decodes to '/' or NUL",
                         registry::kInvalid);
      }
      out.segments.push_back(std::move(*segment));
    }
    start = end + 1;
  }

  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      if (amp == std::string_view::npos) {
        amp = query.size();
      }
      Status added = addQueryPair(query.substr(pos, amp - pos), &out);
      if (!added) {
        return added.error();
      }
      pos = amp + 1;
    }
  }
  return out;
}

Result<HostPort> parseHostPort(std::string_view text, std::string_view field) {
  auto bad = [&](const std::string& why) {
    return makeError(std::string(field) + ": " + quoted(text) + " " + why, registry::kInvalid);
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("is not host:port");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("is not host:port (write IPv6 hosts as [addr]:port)");
  }

  HostPort out;
  auto addr = IpAddr::parse(host);
  if (!addr) {
    return bad("has a bad host: " + addr.error().message);
  }
  out.host = *addr;

  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return bad("has a port outside 1..65535");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

}  // namespace weft::api
