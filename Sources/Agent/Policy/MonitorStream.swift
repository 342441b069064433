import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/monitor/drops`: a long-lived response, one JSON object per line: a `DropRecord` per
/// drop, `{"lost":N}` when this reader's buffer overflowed and lost N drops, and an empty line
/// every few seconds while nothing happens (so either side notices the other is gone).
enum MonitorStream {
    static let contentType = "application/x-ndjson"

    /// A line of the stream as the client reads it.
    struct Lost: Codable, Sendable { var lost: Int }

    static func response(_ broadcast: DropBroadcast, replay: Bool) -> Response {
        let (id, messages) = broadcast.subscribe(replay: replay)
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var reported = 0
            // The first line goes out at once: the client knows it is subscribed from here on.
            try await writer.write(ByteBuffer(string: "\n"))
            for await message in messages {
                let lost = broadcast.lost(id)
                if lost > reported {
                    try await writer.write(ByteBuffer(bytes: try JSONResponse.encode(Lost(lost: lost - reported)) + [0x0A]))
                    reported = lost
                }
                switch message {
                case .drop(let record): try await writer.write(ByteBuffer(bytes: try JSONResponse.encode(record) + [0x0A]))
                case .heartbeat: try await writer.write(ByteBuffer(string: "\n"))
                }
            }
            try await writer.finish(nil)
        })
    }
}
