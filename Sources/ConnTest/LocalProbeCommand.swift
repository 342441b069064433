/// Adapts the YAML's probe argv to this machine: the suite's images run Alpine's `ash`, which
/// Debian does not ship; POSIX `sh` (dash) runs the suite's `! curl …` and `sleep` scripts the same.
public enum LocalProbeCommand {
    public static func adapt(_ argv: [String]) -> [String] {
        guard let first = argv.first, first == "ash" || first == "/bin/ash" else { return argv }
        return ["/bin/sh"] + argv.dropFirst()
    }
}
