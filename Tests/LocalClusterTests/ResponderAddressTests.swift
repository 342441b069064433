@testable import HealthResponderCLI
import Testing

/// Which wildcard the responder binds: "::" only where the resolver will take it.
@Suite struct ResponderAddressTests {
    @Test func ipv6WildcardNeedsAnAddressBesidesLoopback() {
        // A fresh namespace with only lo up (IPv6 enabled): "::" would fail to resolve, so 0.0.0.0.
        #expect(!ResponderCommand.hasIPv6Address(ifInet6: "00000000000000000000000000000001 01 80 10 80       lo\n"))
        #expect(!ResponderCommand.hasIPv6Address(ifInet6: ""))
        #expect(ResponderCommand.hasIPv6Address(ifInet6: """
            00000000000000000000000000000001 01 80 10 80       lo
            fd000000000000000000000000000002 02 40 00 80    eth0
            """))
        #expect(ResponderCommand.hasIPv6Address(ifInet6: "fe80000000000000a8c1abfffe3e2b11 02 40 20 80    eth0\n"))
    }
}
