import Testing
@testable import HealthAPI

/// Expected outputs are worked out by hand from Go's text/tabwriter algorithm with
/// minwidth 2, tabwidth 0, padding 3, padchar ' ' (column width = max(2, widest cell + 3)).
struct TabWriterTests {
    @Test func specTableExample() {
        let input = "Cluster health:\t1/2 reachable\t(2025-08-03T14:23:49Z)\t(Probe interval: 1m36.566274746s)\n"
            + "Name\tIP\tNode\tEndpoints\n"
            + "  node3\t192.168.1.3\t0/1\t0/1\n"
        let expected = """
            Cluster health:   1/2 reachable   (2025-08-03T14:23:49Z)   (Probe interval: 1m36.566274746s)
            Name              IP              Node                     Endpoints
              node3           192.168.1.3     0/1                      0/1

            """
        #expect(TabWriter.align(input) == expected)
    }

    @Test func widthsCountUnicodeScalars() {
        // Column 0: max("a"=1, "µµ"=2) + 3 = 5.
        #expect(TabWriter.align("a\tb\nµµ\tc\n") == "a    b\nµµ   c\n")
    }

    @Test func nestedBlocksAndOneCellLineTerminatesBlocks() {
        // Lines 1-2 share column 0 (width 2+3=5); only line 1 has column 1 (width 1+3=4);
        // "x" has one cell and ends the block; line 4 starts a new block (3+3=6).
        let input = "a\tb\tc\naa\tbb\nx\naaa\tb\n"
        #expect(TabWriter.align(input) == "a    b   c\naa   bb\nx\naaa   b\n")
    }

    @Test func trailingCellIsNotAligned() {
        // The last cells "short" and "a much longer trailing cell" do not affect widths.
        let input = "k\tshort\nkey\ta much longer trailing cell\n"
        #expect(TabWriter.align(input) == "k     short\nkey   a much longer trailing cell\n")
    }

    @Test func emptyCellsArePadded() {
        // Upstream's "daemon unreachable" line: empty cells are padding + 0 wide (3 > minwidth 2).
        let input = "Cluster health:\t\t\tWarning\tcilium-health daemon unreachable\n"
        let expected = "Cluster health:" + "   " + "   " + "   " + "Warning   cilium-health daemon unreachable\n"
        #expect(TabWriter.align(input) == expected)
    }

    @Test func trailingTabPadsTheLastColumn() {
        // "b\t" makes an empty last cell; column 1 is still padded to 1+3.
        #expect(TabWriter.align("a\tb\t\n") == "a   b   \n")
    }

    @Test func minWidthApplies() {
        #expect(TabWriter.align("a\tb\n", minWidth: 5, padding: 0) == "a    b\n")
        #expect(TabWriter.align("abcdef\tb\n", minWidth: 5, padding: 0) == "abcdefb\n")
    }

    @Test func unterminatedLastLineIsWrittenWithoutNewline() {
        #expect(TabWriter.align("a\tb") == "a   b")
        #expect(TabWriter.align("") == "")
        #expect(TabWriter.align("plain\n") == "plain\n")
    }

    @Test func incrementalWritesMatchOneShot() {
        var writer = TabWriter(minWidth: 2, tabWidth: 0, padding: 3, padChar: " ")
        writer.write("a\t")
        writer.write("b\nlonger")
        writer.write("\tc\n")
        #expect(writer.flush() == "a        b\nlonger   c\n")
        // The writer is reset after a flush.
        writer.write("x\ty\n")
        #expect(writer.flush() == "x   y\n")
    }

    @Test func customPadChar() {
        #expect(TabWriter.align("a\tb\n", padChar: ".") == "a...b\n")
    }
}
