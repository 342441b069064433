import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON bodies for the REST servers: compact, keys sorted (as go-swagger emits them), "/" not escaped.
public enum JSONResponse {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder().encode(value)
    }

    /// The encoder behind `encode`, for callers that encode many values (or cache parts of one).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        do {
            return raw(try encode(value), status: status)
        } catch {
            return raw(Data("\"cannot encode response: \(error)\"".utf8), status: .internalServerError)
        }
    }

    /// go-swagger sends error payloads as a JSON string.
    public static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        make(message, status: status)
    }

    static func raw(_ data: Data, status: HTTPResponse.Status) -> Response {
        raw(ByteBuffer(bytes: data), status: status)
    }

    /// A body already encoded (as `encode` does).
    public static func raw(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}
