/// `cue ls` output: `KIND COMPONENT TOPOLOGY NAME`, aligned like Go's
/// tabwriter (cell width + 1 space padding; the last column is not padded).
public enum ResourceTable {
    public static func render(_ resources: [Resource]) -> String {
        var rows: [[String]] = [["KIND   ", "COMPONENT   ", "TOPOLOGY   ", "NAME"]]
        for r in resources {
            rows.append([r.kind.rawValue + "  ", (r.labels?.component.rawValue ?? "-") + "  ",
                         (r.labels?.topology.rawValue ?? "-") + "  ", r.name])
        }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0] + 1) }.joined() + row[3]
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
