import XCTest
import Yams
@testable import ConnTest

final class YAMLEmitterTests: XCTestCase {
    func emit(_ node: YAMLNode, indent: Bool = false) -> String { YAMLEmitter(indentSequences: indent).emit(node) }

    func testScalarStyles() {
        let doc: YAMLNode = .map([
            ("number", .string("5")), ("bool", .string("false")), ("yes", .string("yes")), ("empty", .string("")),
            ("star", .string("*.google.com")), ("bang", .string("! curl x")), ("plain", .string("/public$")),
            ("colon", .string("k8s:k8s-app")), ("url", .string("https://1.1.1.1")), ("dash", .string("-sS")),
            ("quote", .string("it's")), ("int", .int(7)), ("flag", .bool(true)), ("emptyList", .seq([])), ("emptyMap", .map([])),
        ])
        XCTAssertEqual(emit(doc), """
            number: "5"
            bool: "false"
            "yes": "yes"
            empty: ""
            star: '*.google.com'
            bang: '! curl x'
            plain: /public$
            colon: k8s:k8s-app
            url: https://1.1.1.1
            dash: -sS
            quote: it's
            int: 7
            flag: true
            emptyList: []
            emptyMap: {}

            """)
    }

    func testSequenceLayouts() {
        let doc: YAMLNode = .map([("items", .seq([.map([("a", .int(1)), ("b", strings(["x"]))])]))])
        XCTAssertEqual(emit(doc), "items:\n- a: 1\n  b:\n  - x\n")
        XCTAssertEqual(emit(doc, indent: true), "items:\n  - a: 1\n    b:\n      - x\n")
    }

    func testLongScalarsFoldLikeYamlV2AndParseBack() throws {
        let long = "while true; do dig +noall +question +answer +timeout=1 +tries=1 www.google.com && sleep 1 ; done"
        // Same position as in upstream's connectivity-debug-tools.yaml: an item at indent 8.
        let nested: YAMLNode = .map([("a", .map([("b", .map([("c", .map([("d", .map([("command", strings([long]))]))]))]))]))])
        let text = emit(nested)
        XCTAssertTrue(text.contains("        - while true; do dig +noall +question +answer +timeout=1 +tries=1 www.google.com\n          && sleep 1 ; done\n"), text)
        XCTAssertTrue(try Variant.debugTools.render().contains("www.google.com\n          && sleep 1 ; done\n"))
        let parsed = try Yams.load(yaml: text)
        XCTAssertEqual(dig(parsed, "a", "b", "c", "d", "command") as? [String], [long])
    }
}
