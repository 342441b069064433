import Foundation
import HTTPSupport
import HealthAPI
import NIOCore

/// The body of `GET /v1beta/status` written straight into one buffer, node by node: at 5000 nodes
/// Foundation's JSONEncoder took over 100 ms per request and its intermediate tree of the whole
/// status dominated the agent's peak memory. The bytes are exactly `JSONResponse.encode` of the
/// same `HealthStatusResponse` (sorted keys, the models' omission rules, "/" unescaped); a string
/// that needs any escaping is escaped by that encoder itself.
struct StatusJSONWriter {
    private(set) var buffer: ByteBuffer
    private let encoder = JSONResponse.encoder()

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Keys in the order `encode` sorts them: local, nodes, probeInterval, timestamp.
    mutating func begin(local: SelfStatus?) throws {
        buffer.writeStaticString("{")
        if let local {
            buffer.writeStaticString(#""local":{"name":"#)
            try string(local.name)
            buffer.writeStaticString("},")
        }
        buffer.writeStaticString(#""nodes":["#)
    }

    mutating func node(_ node: NodeStatus, first: Bool) throws {
        if !first { buffer.writeStaticString(",") }
        var o = Object()
        if let endpoint = node.endpoint { try path(endpoint, key: #""endpoint":"#, &o) }
        if let endpoint = node.healthEndpoint { try addresses(endpoint, key: #""health-endpoint":"#, &o) }
        if let host = node.host { try addresses(host, key: #""host":"#, &o) }
        if !node.name.isEmpty {
            key(#""name":"#, &o)
            try string(node.name)
        }
        if let state = node.nodeState {
            key(#""node-state":["#, &o)
            for (i, s) in state.enumerated() {
                if i > 0 { buffer.writeStaticString(",") }
                try string(s)
            }
            buffer.writeStaticString("]")
        }
        if node.notProbed {
            key(#""not-probed":true"#, &o)
        }
        close(o)
    }

    mutating func end(probeInterval: String?, timestamp: String) throws {
        buffer.writeStaticString("]")
        if let probeInterval {
            buffer.writeStaticString(#","probeInterval":"#)
            try string(probeInterval)
        }
        if !timestamp.isEmpty {
            buffer.writeStaticString(#","timestamp":"#)
            try string(timestamp)
        }
        buffer.writeStaticString("}")
    }

    /// Writes "{" before an object's first key and "," before the others.
    private struct Object { var empty = true }

    private mutating func key(_ text: StaticString, _ o: inout Object) {
        buffer.writeStaticString(o.empty ? "{" : ",")
        o.empty = false
        buffer.writeStaticString(text)
    }

    private mutating func addresses(_ a: AddressesStatus, key name: StaticString, _ outer: inout Object) throws {
        key(name, &outer)
        var o = Object()
        if let primary = a.primaryAddress { try path(primary, key: #""primary-address":"#, &o) }
        key(#""secondary-addresses":["#, &o)
        for (i, p) in a.secondaryAddresses.enumerated() {
            var element = Object()
            if i > 0 { buffer.writeStaticString(",") }
            try pathBody(p, &element)
        }
        buffer.writeStaticString("]}")
    }

    private mutating func path(_ p: PathStatus, key name: StaticString, _ outer: inout Object) throws {
        key(name, &outer)
        var o = Object()
        try pathBody(p, &o)
    }

    private mutating func pathBody(_ p: PathStatus, _ o: inout Object) throws {
        if let http = p.http { try connectivity(http, key: #""http":"#, &o) }
        if let icmp = p.icmp { try connectivity(icmp, key: #""icmp":"#, &o) }
        if !p.ip.isEmpty {
            key(#""ip":"#, &o)
            try string(p.ip)
        }
        close(o)
    }

    private mutating func connectivity(_ c: ConnectivityStatus, key name: StaticString, _ outer: inout Object) throws {
        key(name, &outer)
        var o = Object()
        if let lastProbed = c.lastProbed {
            key(#""lastProbed":"#, &o)
            try string(lastProbed)
        }
        if c.latency != 0 {
            key(#""latency":"#, &o)
            buffer.writeString(String(c.latency))
        }
        if !c.status.isEmpty {
            key(#""status":"#, &o)
            try string(c.status)
        }
        close(o)
    }

    /// "}" after a non-empty object, "{}" for one without keys.
    private mutating func close(_ o: Object) {
        buffer.writeStaticString(o.empty ? "{}" : "}")
    }

    /// Printable ASCII other than `"` and `\` is written as is (JSONEncoder writes it unchanged);
    /// anything else is left to JSONEncoder's own escaping.
    private mutating func string(_ s: String) throws {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            buffer.writeStaticString("\"")
            buffer.writeString(s)
            buffer.writeStaticString("\"")
        } else {
            buffer.writeBytes(try encoder.encode(s))
        }
    }
}
