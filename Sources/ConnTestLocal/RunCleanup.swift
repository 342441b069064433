import Agent
import Foundation

/// What a `conntest run` must undo however it ends (normal exit, failure, SIGINT/SIGTERM):
/// the deployment, the simulated external host, and the cluster when the run brought it up. Safe to call twice, from any thread.
public final class RunCleanup: @unchecked Sendable {
    private let lock = NSLock()
    private var deployment: LocalDeployment?
    private var enforcement: PolicyEnforcement?
    private var external: ExternalHost?
    private var clusterToRemove: (name: String, stateRoot: String)?
    private var actions: [@Sendable () -> Void] = []

    public init() {}

    public func track(_ deployment: LocalDeployment) {
        lock.lock(); self.deployment = deployment; lock.unlock()
    }

    public func track(_ enforcement: PolicyEnforcement) {
        lock.lock(); self.enforcement = enforcement; lock.unlock()
    }

    public func track(_ external: ExternalHost) {
        lock.lock(); self.external = external; lock.unlock()
    }

    /// Runs `action` (once, before the cluster goes) however the run ends; it must bound itself.
    public func onExit(_ action: @escaping @Sendable () -> Void) {
        lock.lock(); actions.append(action); lock.unlock()
    }

    public func removeClusterOnExit(name: String, stateRoot: String) {
        lock.lock(); clusterToRemove = (name, stateRoot); lock.unlock()
    }

    public func run() {
        lock.lock()
        let deployment = self.deployment
        let enforcement = self.enforcement
        let external = self.external
        let cluster = clusterToRemove
        self.deployment = nil
        self.enforcement = nil
        self.external = nil
        clusterToRemove = nil
        let actions = self.actions
        self.actions = []
        lock.unlock()
        for action in actions.reversed() { action() }
        // Programs first: detaching needs the veths, which the teardown deletes.
        enforcement?.close()
        external?.teardown()
        deployment?.teardown()
        if let cluster, let c = try? LocalCluster(name: cluster.name, stateRoot: cluster.stateRoot) {
            _ = try? c.down()
        }
    }
}
