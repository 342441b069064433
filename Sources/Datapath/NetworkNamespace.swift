import CLibBPF
import Foundation

/// Runs work inside another network namespace.
///
/// Strategy: a dedicated, short-lived thread calls setns(2) (CLONE_NEWNET only affects the
/// calling thread), runs the body, switches back and exits. The calling thread and the rest
/// of the process (Swift concurrency pools, ring-buffer threads) never change namespace.
/// libbpf's `bpf_tc_hook_create`/`bpf_tc_attach` and `if_nametoindex` resolve interfaces in
/// the current thread's namespace, so they run inside such a body.
public enum NetworkNamespace {
    private final class Box<T>: @unchecked Sendable {
        var result: Result<T, Error>?
    }

    /// `path` is e.g. `/run/netns/NAME` or `/proc/PID/ns/net`; nil runs `body` directly.
    public static func run<T>(path: String?, _ body: @escaping @Sendable () throws -> T) throws -> T {
        guard let path else { return try body() }
        let target = open(path, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw BPFError(operation: "open netns \(path)", code: errno) }
        defer { _ = Glibc.close(target) }

        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            defer { if original >= 0 { _ = Glibc.close(original) } }
            if clibbpf_setns(target, CLIBBPF_CLONE_NEWNET) != 0 {
                box.result = .failure(BPFError(operation: "setns \(path)", code: errno))
                return
            }
            box.result = Result { try body() }
            // Best effort: the thread exits right after, taking its namespace with it.
            if original >= 0 { _ = clibbpf_setns(original, CLIBBPF_CLONE_NEWNET) }
        }
        thread.name = "netns-runner"
        thread.start()
        done.wait()
        guard let result = box.result else {
            throw BPFError(operation: "netns runner \(path)", message: "no result")
        }
        return try result.get()
    }
}
