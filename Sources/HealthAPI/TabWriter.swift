// A port of the behaviour of Go's text/tabwriter for flags == 0, which is how upstream
// aligns every cilium-health text output (minwidth 2, tabwidth 0, padding 3, ' ').

/// Elastic tabstops as in Go's `text/tabwriter` (flags 0, non-tab pad character).
///
/// Text is split into tab-terminated cells; the cell after a line's last tab is not part of
/// any column. Consecutive lines that have a cell in column *k* form a column block whose width
/// is `max(minWidth, widest cell + padding)`; a line with fewer cells ends the block, so a line
/// without tabs separates blocks entirely. Widths count Unicode scalars (Go counts runes).
///
/// Not supported (unused upstream for these outputs): `\v`, `\f`, escapes, HTML filtering,
/// and padding with tabs (`padChar == "\t"`), which Go only honours with a non-zero tabwidth.
public struct TabWriter: Sendable {
    private struct Cell: Sendable {
        var text: String
        var width: Int
    }

    public let minWidth: Int
    public let tabWidth: Int
    public let padding: Int
    public let padChar: Character

    /// Completed lines that are waiting for their column blocks to be formatted.
    private var lines: [[Cell]] = [[]]
    /// Text of the cell being accumulated (not yet terminated by a tab or newline).
    private var pendingCell = ""
    /// Formatted text ready to be returned by `flush()`.
    private var output = ""

    public init(minWidth: Int, tabWidth: Int, padding: Int, padChar: Character) {
        self.minWidth = minWidth
        self.tabWidth = tabWidth
        self.padding = padding
        self.padChar = padChar
    }

    public mutating func write(_ text: String) {
        for ch in text.unicodeScalars {
            switch ch {
            case "\t":
                terminateCell()
            case "\n":
                let cellCount = terminateCell()
                lines.append([])
                // Go flushes here: a one-cell line cannot influence later columns.
                if cellCount == 1 { formatBuffered() }
            default:
                pendingCell.unicodeScalars.append(ch)
            }
        }
    }

    /// Formats everything written so far, returns it, and resets the writer.
    public mutating func flush() -> String {
        if !pendingCell.isEmpty { terminateCell() }
        formatBuffered()
        defer { output = "" }
        return output
    }

    /// One-shot helper: write `text`, then flush.
    public static func align(_ text: String, minWidth: Int = 2, tabWidth: Int = 0, padding: Int = 3,
                             padChar: Character = " ") -> String {
        var writer = TabWriter(minWidth: minWidth, tabWidth: tabWidth, padding: padding, padChar: padChar)
        writer.write(text)
        return writer.flush()
    }

    @discardableResult
    private mutating func terminateCell() -> Int {
        let cell = Cell(text: pendingCell, width: pendingCell.unicodeScalars.count)
        pendingCell = ""
        lines[lines.count - 1].append(cell)
        return lines[lines.count - 1].count
    }

    private mutating func formatBuffered() {
        var widths: [Int] = []
        format(&widths, from: 0, to: lines.count)
        lines = [[]]
    }

    /// Go's `format()` recursion: find column blocks at depth `widths.count` within
    /// `start..<end`, and for each one fix its width and recurse into the next column.
    private mutating func format(_ widths: inout [Int], from start: Int, to end: Int) {
        let column = widths.count
        var blockStart = start
        var index = start
        while index < end {
            if column >= lines[index].count - 1 {
                index += 1
                continue
            }
            // This line has a cell in `column`: print the lines before the block first.
            writeLines(widths, from: blockStart, to: index)
            blockStart = index
            var width = minWidth
            while index < end, column < lines[index].count - 1 {
                width = max(width, lines[index][column].width + padding)
                index += 1
            }
            widths.append(width)
            format(&widths, from: blockStart, to: index)
            widths.removeLast()
            blockStart = index
        }
        writeLines(widths, from: blockStart, to: end)
    }

    private mutating func writeLines(_ widths: [Int], from start: Int, to end: Int) {
        guard start < end else { return }
        for index in start..<end {
            for (column, cell) in lines[index].enumerated() {
                output += cell.text
                if column < widths.count {
                    output += String(repeating: padChar, count: max(0, widths[column] - cell.width))
                }
            }
            // The last buffered line has not seen its newline yet.
            if index + 1 < lines.count { output += "\n" }
        }
    }
}
