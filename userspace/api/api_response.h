// SPDX-License-Identifier: Apache-2.0
// The API's requests and responses without HTTP framing, and the JSON error body
// {"error":{"code":...,"message":...}} with the mapping from registry error codes.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "userspace/common/result.h"

namespace weft::api {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent, still percent-encoded
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string body;   // JSON text, or empty (204)
  std::string allow;  // the Allow header of a 405
};

// Error codes in the JSON body; the HTTP status follows from them.
inline constexpr std::string_view kCodeInvalid = "invalid_argument";         // 400
inline constexpr std::string_view kCodeBadRequest = "bad_request";           // 400
inline constexpr std::string_view kCodeNotFound = "not_found";               // 404
inline constexpr std::string_view kCodeMethod = "method_not_allowed";        // 405
inline constexpr std::string_view kCodeConflict = "conflict";                // 409
inline constexpr std::string_view kCodeTooLarge = "payload_too_large";       // 413
inline constexpr std::string_view kCodeHeaderTooLarge = "header_too_large";  // 431
inline constexpr std::string_view kCodeInternal = "internal";                // 500
inline constexpr std::string_view kCodeUnavailable = "unavailable";          // 503

// Error code for a body that is not JSON at all, answered as 400 bad_request (a body that is
// JSON with bad fields is invalid_argument).
inline constexpr int kMalformed = 74;  // EBADMSG

ApiResponse errorResponse(int status, std::string_view code, const std::string& message);

// kInvalid -> 400 invalid_argument, kMalformed -> 400 bad_request, kNotFound -> 404, kConflict ->
// 409, anything else (a store that failed) -> 500 internal.
ApiResponse errorResponse(const Error& error);

ApiResponse jsonResponse(int status, const nlohmann::json& body);

}  // namespace weft::api
