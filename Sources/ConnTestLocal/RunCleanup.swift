import Agent
import Foundation

/// What a `conntest run` on the local cluster must undo however it ends (normal exit, failure,
/// SIGINT/SIGTERM): the run's exit actions (its workload in the API), the simulated external host,
/// and the cluster when the run brought it up. Safe to call twice, from any thread.
public final class RunCleanup: @unchecked Sendable {
    private let lock = NSLock()
    private var external: ExternalHost?
    private var clusterToRemove: (name: String, stateRoot: String)?
    private var actions: [@Sendable () -> Void] = []

    public init() {}

    public func track(_ external: ExternalHost) {
        lock.withLock { self.external = external }
    }

    /// Runs `action` (once, before the cluster goes) however the run ends; it must bound itself.
    public func onExit(_ action: @escaping @Sendable () -> Void) {
        lock.withLock { actions.append(action) }
    }

    public func removeClusterOnExit(name: String, stateRoot: String) {
        lock.withLock { clusterToRemove = (name, stateRoot) }
    }

    public func run() {
        let (external, cluster, actions) = lock.withLock {
            defer {
                self.external = nil
                clusterToRemove = nil
                self.actions = []
            }
            return (self.external, clusterToRemove, self.actions)
        }
        // The workload first: its pods stop probing the external host before it goes.
        for action in actions.reversed() { action() }
        external?.teardown()
        if let cluster, let c = try? LocalCluster(name: cluster.name, stateRoot: cluster.stateRoot) {
            _ = try? c.down()
        }
    }
}
