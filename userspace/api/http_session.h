// SPDX-License-Identifier: Apache-2.0
// One HTTP/1.1 connection of the API server, over a unix or TCP stream socket: reads
// requests within the header and body limits and timeouts, routes them, keeps the
// connection alive when the client asks for it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>

#include "userspace/api/server_state.h"

namespace weft::api {

// Starts serving an accepted socket; the session keeps itself alive until the connection
// ends. When the server is at its connection limit the client gets a 503 and a close
// instead. Runs on the io_context's thread; nothing it does throws into Asio.
template <class Protocol>
void serveConnection(const std::shared_ptr<ServerState>& state, typename Protocol::socket socket);

extern template void serveConnection<boost::asio::ip::tcp>(const std::shared_ptr<ServerState>&,
                                                           boost::asio::ip::tcp::socket);
extern template void serveConnection<boost::asio::local::stream_protocol>(
    const std::shared_ptr<ServerState>&, boost::asio::local::stream_protocol::socket);

}  // namespace weft::api
