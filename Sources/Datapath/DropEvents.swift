import CLibBPF
import Foundation

/// A decoded `struct drop_event` from the `events` ring buffer.
public struct DropEvent: Sendable, Hashable, CustomStringConvertible {
    /// Size of the C record (bpf/policy.h).
    public static let recordSize = 56

    /// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns).
    public let timestampNs: UInt64
    /// Host-side veth ifindex (node namespace).
    public let ifindex: UInt32
    public let endpoint: UInt32
    public let direction: PolicyDirection
    public let family: IPFamily
    public let proto: UInt8
    public let reasonCode: UInt8
    public let source: String
    public let destination: String
    public let sourcePort: UInt16
    public let destinationPort: UInt16

    public init(timestampNs: UInt64, ifindex: UInt32, endpoint: UInt32, direction: PolicyDirection,
                family: IPFamily, proto: UInt8, reasonCode: UInt8, source: String, destination: String,
                sourcePort: UInt16, destinationPort: UInt16) {
        self.timestampNs = timestampNs
        self.ifindex = ifindex
        self.endpoint = endpoint
        self.direction = direction
        self.family = family
        self.proto = proto
        self.reasonCode = reasonCode
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    /// Decodes one ring-buffer record; nil if it is short or malformed.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= DropEvent.recordSize else { return nil }
        let dirRaw = bytes[16], famRaw = bytes[17]
        guard let dir = PolicyDirection(rawValue: dirRaw), let fam = IPFamily(rawValue: famRaw) else { return nil }
        timestampNs = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        ifindex = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        endpoint = bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        direction = dir
        family = fam
        proto = bytes[18]
        reasonCode = bytes[19]
        sourcePort = bytes.loadUnaligned(fromByteOffset: 20, as: UInt16.self)
        destinationPort = bytes.loadUnaligned(fromByteOffset: 22, as: UInt16.self)
        source = IPPrefix.format(Array(bytes[24..<40]), family: fam)
        destination = IPPrefix.format(Array(bytes[40..<56]), family: fam)
    }

    /// Cilium monitor text for the drop reason.
    public var reason: String { DropEvent.reasonText(reasonCode) }

    public static func reasonText(_ code: UInt8) -> String {
        switch code {
        case 1, 2: "Policy denied"
        default: "Unknown drop reason \(code)"
        }
    }

    public var protocolName: String {
        switch proto {
        case 6: "tcp"
        case 17: "udp"
        case 1: "icmp"
        case 58: "icmpv6"
        default: "proto-\(proto)"
        }
    }

    private func endpointText(_ addr: String, _ port: UInt16) -> String {
        let a = family == .v6 ? "[\(addr)]" : addr
        return (proto == 6 || proto == 17) ? "\(a):\(port)" : a
    }

    /// e.g. `xx drop (Policy denied) flow egress from endpoint 1, ifindex 5: 198.18.1.2:40112 -> 198.18.2.2:8080 tcp`
    public var description: String {
        let rel = direction == .egress ? "from" : "to"
        return "xx drop (\(reason)) flow \(direction) \(rel) endpoint \(endpoint), ifindex \(ifindex): "
            + "\(endpointText(source, sourcePort)) -> \(endpointText(destination, destinationPort)) \(protocolName)"
    }
}

/// Reads drop events from the `events` ring buffer on a dedicated polling thread and
/// delivers them through `events`. Call `stop()` (or drop the reader) to end the stream.
public final class DropEventReader: @unchecked Sendable {
    public let events: AsyncStream<DropEvent>

    /// Shared between the reader and its polling thread (the thread never retains the reader,
    /// so dropping the reader stops it).
    private final class State: @unchecked Sendable {
        let continuation: AsyncStream<DropEvent>.Continuation
        let lock = NSLock()
        var stopping = false
        var stopped = false
        var malformed = 0
        let finished = DispatchSemaphore(value: 0)
        var ring: OpaquePointer?
        init(_ c: AsyncStream<DropEvent>.Continuation) { continuation = c }

        var isStopping: Bool {
            lock.lock(); defer { lock.unlock() }
            return stopping
        }
    }

    private let state: State
    private let program: PolicyProgram

    /// Records that were too short or malformed (should stay 0).
    public var malformedCount: Int {
        state.lock.lock(); defer { state.lock.unlock() }
        return state.malformed
    }

    /// - Parameters:
    ///   - pollTimeoutMs: ring_buffer__poll timeout; bounds how long `stop()` waits.
    ///   - bufferLimit: newest events kept when the consumer is slow.
    public init(program: PolicyProgram, pollTimeoutMs: Int32 = 100, bufferLimit: Int = 4096) throws {
        self.program = program
        var cont: AsyncStream<DropEvent>.Continuation?
        events = AsyncStream(bufferingPolicy: .bufferingNewest(bufferLimit)) { cont = $0 }
        guard let continuation = cont else {
            throw BPFError(operation: "DropEventReader", message: "no stream continuation")
        }
        let state = State(continuation)
        self.state = state
        let callback: ring_buffer_sample_fn = { ctx, data, size in
            guard let ctx, let data else { return 0 }
            let state = Unmanaged<State>.fromOpaque(ctx).takeUnretainedValue()
            if let ev = DropEvent(bytes: UnsafeRawBufferPointer(start: data, count: size)) {
                state.continuation.yield(ev)
            } else {
                state.lock.lock(); state.malformed += 1; state.lock.unlock()
            }
            return 0
        }
        // `state` outlives the ring buffer: it is freed in stop(), which the reader's deinit calls.
        guard let rb = ring_buffer__new(program.eventsMap.fd, callback,
                                        Unmanaged.passUnretained(state).toOpaque(), nil) else {
            let err = errno
            continuation.finish()
            throw BPFError(operation: "ring_buffer__new", code: err)
        }
        state.ring = rb
        let thread = Thread {
            DropEventReader.pollLoop(state, timeout: pollTimeoutMs)
        }
        thread.name = "drop-event-reader"
        thread.start()
    }

    private static func pollLoop(_ state: State, timeout: Int32) {
        if let rb = state.ring {
            while !state.isStopping {
                let n = ring_buffer__poll(rb, timeout)
                if n < 0 && n != -EINTR { break }
            }
            // Deliver what was emitted just before stop.
            _ = ring_buffer__consume(rb)
        }
        state.continuation.finish()
        state.finished.signal()
    }

    /// Stops polling, finishes the stream and frees the ring buffer. Idempotent.
    public func stop() {
        state.lock.lock()
        if state.stopped { state.lock.unlock(); return }
        state.stopping = true
        state.stopped = true
        state.lock.unlock()
        state.finished.wait()
        if let rb = state.ring { ring_buffer__free(rb) }
        state.ring = nil
    }

    deinit { stop() }
}
