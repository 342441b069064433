import CLibBPF
import Foundation

/// An error from libbpf or a system call, carrying the errno and libbpf's text for it.
public struct BPFError: Error, Sendable, CustomStringConvertible, Equatable {
    public let operation: String
    /// Positive errno (or libbpf-specific code, e.g. 4000+).
    public let code: Int32
    public let message: String

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = abs(code)
        self.message = BPFError.text(for: abs(code))
    }

    public init(operation: String, message: String) {
        self.operation = operation
        self.code = 0
        self.message = message
    }

    public var description: String {
        code == 0 ? "\(operation): \(message)" : "\(operation): \(message) (errno \(code))"
    }

    static func text(for code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 256)
        _ = libbpf_strerror(code, &buf, buf.count)
        let s = stringFromCBuffer(buf)
        return s.isEmpty ? String(cString: strerror(code)) : s
    }

    /// Checks a libbpf-style return value (negative errno on failure).
    @discardableResult
    static func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
        if rc < 0 { throw BPFError(operation: operation(), code: rc) }
        return rc
    }
}

/// NUL-terminated C buffer → String (without the deprecated array overload).
func stringFromCBuffer(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension Array where Element == UInt8 {
    /// Runs `body` with the (non-empty) buffer's base address.
    func withBase<R>(_ body: (UnsafeRawPointer) throws -> R) throws -> R {
        try withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { throw BPFError(operation: "map key", code: EINVAL) }
            return try body(base)
        }
    }

    mutating func withMutableBase<R>(_ body: (UnsafeMutableRawPointer) throws -> R) throws -> R {
        try withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { throw BPFError(operation: "map value", code: EINVAL) }
            return try body(base)
        }
    }
}
