import Foundation
import LoopbackClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking sockets to 127.0.0.1 with receive/send timeouts, so nothing can hang.
enum RawLoopbackClient {
    struct Outcome { var ok = 0; var failures: [String] = [] }

    static func connect(port: Int) throws -> Int32 { try LoopbackSocket.connect(port: port) }

    static func holdConnections(count: Int, port: Int) throws -> Outcome {
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        for _ in 0..<count { fds.append(try connect(port: port)) }
        var outcome = Outcome()
        let request = Array("GET /public HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        for fd in fds {
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }
        for fd in fds {
            var buffer = [UInt8](repeating: 0, count: 4096)
            var received: [UInt8] = []
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                received += buffer[0..<n]
            }
            let text = String(decoding: received, as: UTF8.self)
            if text.hasPrefix("HTTP/1.1 200") && text.hasSuffix("public information\"}]") {
                outcome.ok += 1
            } else {
                outcome.failures.append(String(text.prefix(80)))
            }
        }
        return outcome
    }
}
