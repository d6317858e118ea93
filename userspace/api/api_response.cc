// SPDX-License-Identifier: Apache-2.0
// Error bodies and status mapping for the API.
#include "userspace/api/api_response.h"

#include "userspace/registry/registry.h"

namespace weft::api {

ApiResponse errorResponse(int status, std::string_view code, const std::string& message) {
  nlohmann::json body;
  body["error"]["code"] = code;
  body["error"]["message"] = message;
  return jsonResponse(status, body);
}

ApiResponse errorResponse(const Error& error) {
  switch (error.code) {
    case registry::kInvalid:
      return errorResponse(400, kCodeInvalid, error.message);
    case kMalformed:
      return errorResponse(400, kCodeBadRequest, error.message);
    case registry::kNotFound:
      return errorResponse(404, kCodeNotFound, error.message);
    case registry::kConflict:
      return errorResponse(409, kCodeConflict, error.message);
    default:
      return errorResponse(500, kCodeInternal, error.message);
  }
}

ApiResponse jsonResponse(int status, const nlohmann::json& body) {
  // Replace, not throw, on invalid UTF-8: a label from an old store must not kill a request.
  return ApiResponse{
      status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

}  // namespace weft::api
