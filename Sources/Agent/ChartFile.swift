import ConnTest
import Foundation

/// Writes a chart as SVG, or as PNG through rsvg-convert (Debian's librsvg2-bin), picked by the
/// file name; atomically, so a failure leaves no half-written picture.
public enum ChartFile {
    public enum Format: Sendable { case svg, png }

    /// Checked before any work: the name's extension, a writable place, and the PNG renderer.
    public static func validate(_ path: String, flag: String = "-o") throws -> Format {
        let format: Format
        switch (path as NSString).pathExtension.lowercased() {
        case "svg": format = .svg
        case "png": format = .png
        default: throw AgentError("invalid \(flag) '\(path)': name an .svg or .png file")
        }
        try OutputFile.checkWritable(path, flag: flag)
        if format == .png { _ = try renderer() }
        return format
    }

    public static func write(_ svg: String, to path: String) throws {
        switch try validate(path) {
        case .svg:
            try OutputFile.write(svg, to: path)
        case .png:
            let temp = path + ".tmp-\(getpid()).png"
            defer { unlink(temp) }
            try Command.check([try renderer(), "--format", "png", "--output", temp], input: svg, timeout: 60)
            guard rename(temp, path) == 0 else {
                throw AgentError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func renderer() throws -> String {
        do { return try Command.resolve("rsvg-convert") } catch {
            throw AgentError("PNG output needs rsvg-convert (apt-get install librsvg2-bin); name an .svg file instead")
        }
    }
}
