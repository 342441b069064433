/// An exec probe as Kubernetes evaluates it; absent fields take the Kubernetes defaults.
public struct ProbeSpec: Sendable, Equatable {
    public var command: [String]
    public var initialDelaySeconds: Double
    public var periodSeconds: Double
    public var timeoutSeconds: Double
    public var successThreshold: Int
    public var failureThreshold: Int

    public init(command: [String], initialDelaySeconds: Double = 0, periodSeconds: Double = 10,
                timeoutSeconds: Double = 1, successThreshold: Int = 1, failureThreshold: Int = 3) {
        self.command = command
        self.initialDelaySeconds = initialDelaySeconds
        self.periodSeconds = periodSeconds
        self.timeoutSeconds = timeoutSeconds
        self.successThreshold = successThreshold
        self.failureThreshold = failureThreshold
    }

    /// Parses a `readinessProbe`/`livenessProbe` map. Only exec probes are supported:
    /// the suite never uses httpGet/tcpSocket, and silently ignoring one would pass a check untested.
    public init(node: YAMLNode, context: String) throws {
        guard let argv = node.value(at: "exec", "command")?.arrayValue else {
            throw ConnTestError("\(context): only exec probes are supported (missing exec.command)")
        }
        let command = argv.compactMap(\.stringValue)
        guard command.count == argv.count, !command.isEmpty else {
            throw ConnTestError("\(context): exec.command must be a non-empty list of strings")
        }
        func field(_ key: String, _ fallback: Int, minimum: Int) throws -> Int {
            guard let raw = node[key] else { return fallback }
            guard let value = raw.looseIntValue, value >= minimum else {
                throw ConnTestError("\(context): \(key) must be an integer >= \(minimum)")
            }
            return value
        }
        // Kubernetes treats 0 as "use the default" for these fields.
        func positive(_ key: String, _ fallback: Int) throws -> Int {
            let v = try field(key, fallback, minimum: 0)
            return v == 0 ? fallback : v
        }
        self.init(command: command,
                  initialDelaySeconds: Double(try field("initialDelaySeconds", 0, minimum: 0)),
                  periodSeconds: Double(try positive("periodSeconds", 10)),
                  timeoutSeconds: Double(try positive("timeoutSeconds", 1)),
                  successThreshold: try positive("successThreshold", 1),
                  failureThreshold: try positive("failureThreshold", 3))
    }

    /// The suite's deny probes are `ash -c "! curl …"`: Ready only while the target is unreachable.
    public var expectation: CheckExpectation {
        guard command.count == 3, ["ash", "sh", "/bin/ash", "/bin/sh"].contains(command[0]), command[1] == "-c" else {
            return .allow
        }
        return command[2].trimmingLeadingSpaces().hasPrefix("!") ? .deny : .allow
    }
}

/// What a check's probe asserts about its target.
public enum CheckExpectation: String, Sendable, Equatable, CaseIterable {
    case allow
    case deny
}

extension String {
    fileprivate func trimmingLeadingSpaces() -> Substring { drop { $0 == " " || $0 == "\t" } }
}
