// Go zero values for every field of the upstream go-swagger structs our models mirror, so
// GoYAML can print fields that our encoders omit (yaml.v3 ignores `omitempty`).
// Keys are JSON names; GoYAML derives the yaml.v3 key from them.

extension ConnectivityStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("lastProbed", .string("")), ("latency", .int(0)), ("status", .string(""))]
    }
}

extension PathStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("http", .null), ("icmp", .null), ("ip", .string(""))]
    }
}

extension AddressesStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("primary-address", .null), ("secondary-addresses", .array([]))]
    }
}

extension NodeStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("endpoint", .null), ("health-endpoint", .null), ("host", .null), ("name", .string(""))]
    }
}

extension SelfStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] { [("name", .string(""))] }
}

extension HealthStatusResponse: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("local", .null), ("nodes", .array([])), ("probeInterval", .string("")), ("timestamp", .string(""))]
    }
}

extension LoadResponse: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("last15min", .string("")), ("last1min", .string("")), ("last5min", .string(""))]
    }
}

extension HealthResponse: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        // Upstream's `cilium` is a struct value, never null; ours is always encoded.
        [("cilium", .object([], isStruct: true)), ("system-load", .null), ("uptime", .string(""))]
    }
}

// Upstream's agent StatusResponse has many more fields than this agent models; only the
// modelled ones are printed.
extension AgentStatusResponse: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] { [("cilium", .null), ("cluster", .null)] }
}

extension AgentStatusResponse.ClusterStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("ciliumHealth", .null), ("nodes", .array([])), ("self", .string(""))]
    }
}

extension ComponentStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] { [("msg", .string("")), ("state", .string(""))] }
}

extension NodeAddressingElement: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("address-type", .string("")), ("alloc-range", .string("")), ("enabled", .bool(false)), ("ip", .string(""))]
    }
}

extension NodeAddressing: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] { [("ipv4", .null), ("ipv6", .null)] }
}

extension NodeElement: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("health-endpoint-address", .null), ("name", .string("")), ("primary-address", .null),
         ("secondary-addresses", .array([]))]
    }
}

extension ClusterNodeStatus: GoStructFields {
    static var goFieldZeros: [(key: String, zero: GoValue)] {
        [("client-id", .int(0)), ("nodes-added", .array([])), ("nodes-removed", .array([])), ("self", .string(""))]
    }
}
