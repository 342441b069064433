import Foundation

/// Starts long-running daemons (node agents, responders) in their own session, so they outlive
/// the command that started them and never hold its terminal.
public enum DetachedProcess {
    /// glibc's POSIX_SPAWN_SETSID, hidden from Swift behind _GNU_SOURCE.
    private static let posixSpawnSetsid: Int32 = 0x80

    /// The descriptor number an inherited socket gets in the child (`spawn(…, inheriting:)`).
    public static let inheritedFD: Int32 = 3

    /// `inheriting` hands one descriptor to the child as `inheritedFD`; every other one above 2 is closed.
    public static func spawn(_ args: [String], logPath: String, environment: [String: String]? = nil,
                             inheriting: Int32? = nil) throws -> pid_t {
        guard let tool = args.first else { throw AgentError("empty command") }
        let path = try Command.resolve(tool)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // A daemon must not keep the caller's pipes open, or whoever reads our output waits forever.
        var firstClosed = inheritedFD
        var extraFD: Int32?
        defer { if let extraFD { close(extraFD) } }  // the parent's temporary copy
        if let fd = inheriting {
            // dup2 onto itself would keep O_CLOEXEC: move a descriptor that is already 3 out of the way first.
            let source = fd == inheritedFD ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : fd
            guard source >= 0 else { throw AgentError("cannot pass descriptor \(fd): \(String(cString: strerror(errno)))") }
            if source != fd { extraFD = source }
            posix_spawn_file_actions_adddup2(&actions, source, inheritedFD)
            firstClosed = inheritedFD + 1
        }
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, firstClosed) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(posixSpawnSetsid | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([path] + args.dropFirst()).map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw AgentError("cannot start \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// A short-lived tool in our session, its stdin/stdout/stderr on the given descriptors (nil
    /// stdin: /dev/null) and nothing else inherited. Reap it with `wait(_:timeout:)`.
    static func spawnAttached(_ args: [String], stdin: Int32?, stdout: Int32, stderr: Int32) throws -> pid_t {
        guard let path = args.first else { throw AgentError("empty command") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, &cArgs, environ)
        guard rc == 0 else { throw AgentError("cannot run \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Reaps a child started by `spawnAttached`: its exit status (128+signal when killed), after
    /// SIGTERM at `timeout` and SIGKILL a second later if it is still there.
    static func wait(_ pid: pid_t, timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var pause: useconds_t = 1_000
        var signalled = false
        var killAt: Date?
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return -1 }
            let now = Date()
            if !signalled && now >= deadline {
                kill(pid, SIGTERM)
                signalled = true
                killAt = now.addingTimeInterval(1)
            } else if let at = killAt, now >= at {
                kill(pid, SIGKILL)
                killAt = nil
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
        // WIFEXITED / WTERMSIG, which Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc ≥ 2.34's posix_spawn_file_actions_addclosefrom_np, not exported to Swift (a GNU extension).
    private static let addCloseFrom: AddCloseFrom? = {
        guard let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(sym, to: AddCloseFrom.self)
    }()

    public static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 { return false }
        // A zombie still answers kill(0); treat it as gone.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z"
        }
        return true
    }

    public static func readPidfile(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// SIGTERM, then SIGKILL after `grace` if the process is still there.
    public static func stop(_ pid: pid_t, grace: TimeInterval = 3) {
        guard isAlive(pid) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while isAlive(pid), Date() < deadline { usleep(50_000) }
        if isAlive(pid) { kill(pid, SIGKILL) }
    }

    /// The directory of the running executable: sibling binaries (agent, responder, CLI) live there.
    public static var executableDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }
}
