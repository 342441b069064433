import ConnTest
import Foundation
import KubeClient

/// A check's verdict inputs, read from what the API shows of its pod: containerStatuses (ready,
/// restartCount, a stuck Waiting state), the Unhealthy events kubelet wrote, and what this run
/// saw over time (the API keeps state, not history: when a container first read Ready, when it
/// last started running), with the same settle rules as the in-process runner.
struct PodObservation {
    /// Waiting reasons that will not clear by themselves (kubelet's and this project's own).
    static let stuckReasons: Set<String> = [
        "ImageNotRunnableLocally", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
        "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff", "RunContainerError",
    ]

    private var uid: String?
    private var firstReady: [String: Double] = [:]
    private var running: [String: (restarts: Int, since: Double)] = [:]
    /// Event name → (count, when first seen at that count), to order failures across containers.
    private var failureSeen: [String: (count: Int, at: Double)] = [:]

    /// `now` is seconds since the check was applied.
    mutating func status(of pod: Pod, deployment: WorkloadDeployment, events: [KubeEvent], now: Double) -> PodStatus {
        if pod.metadata.uid != uid {
            // A replacement pod (the ReplicaSet made a new one): its history starts over.
            self = PodObservation()
            uid = pod.metadata.uid
        }
        let mine = events.filter { $0.involvedObject.uid == pod.metadata.uid && $0.reason == "Unhealthy" }
        for e in mine {
            let name = e.metadata.name ?? ""
            let count = e.count ?? 1
            if failureSeen[name]?.count != count { failureSeen[name] = (count, now) }
        }
        let statuses = pod.status?.containerStatuses ?? []
        return PodStatus(containers: deployment.containers.map { spec in
            var s = ProbeStatus()
            let cs = statuses.first { $0.name == spec.name }
            s.ready = cs?.ready ?? false
            s.restartCount = cs?.restartCount ?? 0
            if s.ready, firstReady[spec.name] == nil { firstReady[spec.name] = now }
            s.timeToFirstReady = firstReady[spec.name]
            if let waiting = cs?.state.waiting, let reason = waiting.reason, Self.stuckReasons.contains(reason) {
                s.stuckWaiting = "\(spec.name): \(reason)" + (waiting.message.map { ": \($0)" } ?? "")
            }

            let failures = mine.filter { $0.containerName == spec.name }
            if let newest = failures.max(by: { (failureSeen[$0.metadata.name ?? ""]?.at ?? 0) < (failureSeen[$1.metadata.name ?? ""]?.at ?? 0) }) {
                s.lastFailure = newest.message
                s.lastFailureAt = failureSeen[newest.metadata.name ?? ""]?.at
            }
            let readinessFailures = failures.filter { $0.message?.hasPrefix("Readiness probe failed") == true }
                .reduce(0) { $0 + ($1.count ?? 1) }
            // Events count every failure, not consecutive ones: a probe that failed before its
            // target was up and then passed still counts. Echo servers are Ready before checks start.
            if let readiness = spec.readinessProbe, readinessFailures >= readiness.failureThreshold, !s.ready {
                s.readinessThresholdReached = true
            }

            if let liveness = spec.livenessProbe, liveness.command != spec.readinessProbe?.command {
                s.livenessFailureThreshold = liveness.failureThreshold
                if cs?.state.running != nil {
                    if running[spec.name]?.restarts != s.restartCount { running[spec.name] = (s.restartCount, now) }
                } else {
                    running[spec.name] = nil
                }
                if let since = running[spec.name]?.since {
                    let elapsed = now - since - liveness.initialDelaySeconds
                    s.livenessChecksSinceStart = elapsed < 0 ? 0 : Int(elapsed / liveness.periodSeconds) + 1
                }
            }
            return s
        })
    }
}
