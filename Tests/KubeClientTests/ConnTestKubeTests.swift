import ConnTest
@testable import ConnTestKube
import Foundation
@testable import KubeClient
import Testing

/// The pure parts of a run through the API: cilium-cli's readiness predicate, reading an
/// admission refusal from FailedCreate events, RBAC wording, lease expiry, the NodePort fallback.
@Suite struct ConnTestKubeTests {
    func deployment(generation: Int, observed: Int, replicas: Int, available: Int, ready: Int, updated: Int) throws -> DeploymentState {
        let json = """
            {"metadata":{"name":"echo-a","generation":\(generation)},"status":{"observedGeneration":\(observed),"replicas":\(replicas),
             "availableReplicas":\(available),"readyReplicas":\(ready),"updatedReplicas":\(updated)}}
            """
        return try JSONDecoder().decode(DeploymentState.self, from: Data(json.utf8))
    }

    /// deploy/cilium-health.yaml's DaemonSet as the API returns it, with `volume`/`mount` varied.
    func healthDaemonSet(env: String = #"[{"name":"CILIUM_HEALTH_SOCK","value":"/var/run/cilium-health/health.sock"}]"#,
                         mountPath: String = "/var/run/cilium-health", hostPath: String = "/var/run/cilium-health") throws -> HealthDaemonLocation? {
        let json = """
            {"metadata":{"name":"cilium-health","namespace":"nethealth"},
             "spec":{"template":{"spec":{"containers":[{"name":"cilium-health","image":"registry.local/nethealth:0.1.0","env":\(env),
               "volumeMounts":[{"name":"sockets","mountPath":"\(mountPath)"}]}],
               "volumes":[{"name":"sockets","hostPath":{"path":"\(hostPath)","type":"DirectoryOrCreate"}}]}}},
             "status":{"numberReady":2,"desiredNumberScheduled":3}}
            """
        return HealthDaemonDiscovery.location(try JSONDecoder().decode(HealthDaemonDiscovery.DaemonSet.self, from: Data(json.utf8)))
    }

    /// The check's pods need the daemon's image and the host directory behind its socket.
    @Test func healthDaemonLocationFromItsDaemonSet() throws {
        #expect(try healthDaemonSet() == HealthDaemonLocation(daemonSet: "nethealth/cilium-health", image: "registry.local/nethealth:0.1.0",
                                                               socketDirectory: "/var/run/cilium-health", readyPods: 2, scheduledPods: 3))
        // The socket under a mount whose host directory differs: the host's path is what the check mounts.
        #expect(try healthDaemonSet(env: #"[{"name":"CILIUM_HEALTH_SOCK","value":"/run/h/sub/health.sock"}]"#, mountPath: "/run/h",
                                    hostPath: "/srv/nethealth")?.socketDirectory == "/srv/nethealth/sub")
        // No env: the daemon's default socket path.
        #expect(try healthDaemonSet(env: "[]")?.socketDirectory == "/var/run/cilium-health")
        // The socket on no hostPath: the check's pods could not reach it.
        #expect(try healthDaemonSet(mountPath: "/elsewhere") == nil)
    }

    @Test func labelSelectorsArePercentEncoded() {
        #expect(KubeClient.labelSelectorQuery("app.kubernetes.io/managed-by=conntest") == "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dconntest")
        #expect(KubeClient.labelSelectorQuery("a in (x,y)") == "labelSelector=a%20in%20%28x%2Cy%29")
    }

    @Test func tagFiltersDecideWhetherTheHealthScenarioMayRun() throws {
        #expect(try TagSelection.parse([]).mayMatchHealthChecks)
        #expect(try TagSelection.parse(["component=health"]).mayMatchHealthChecks)
        #expect(try TagSelection.parse(["name=cilium-health-node-1"]).mayMatchHealthChecks)
        #expect(try !TagSelection.parse(["name=pod-to-a"]).mayMatchHealthChecks)
        #expect(try !TagSelection.parse(["component=network"]).mayMatchHealthChecks)
        #expect(try !TagSelection.parse(["kind=Service"]).mayMatchHealthChecks)
        #expect(try !TagSelection.parse(["quarantine=true"]).mayMatchHealthChecks)
        let node1 = HealthCheckWorkload().resources(nodes: ["node-1", "node-2"])
        #expect(try TagSelection.parse(["name=cilium-health-node-1"]).filter(node1).map(\.name) == ["cilium-health-node-1"])
        #expect(try TagSelection.parse(["component=health"]).filter(node1).count == 2)
    }

    @Test func deploymentReadinessAsCiliumCLIJudgesIt() throws {
        #expect(try deployment(generation: 1, observed: 1, replicas: 1, available: 1, ready: 1, updated: 1).notReady == nil)
        #expect(try deployment(generation: 2, observed: 1, replicas: 1, available: 1, ready: 1, updated: 1).notReady
                == "observed generation (1) is older than generation of the desired state (2)")
        #expect(try deployment(generation: 1, observed: 1, replicas: 0, available: 0, ready: 0, updated: 0).notReady == "replicas count is zero")
        #expect(try deployment(generation: 1, observed: 1, replicas: 1, available: 0, ready: 0, updated: 1).notReady
                == "only 0 of 1 replicas are available")
        #expect(try deployment(generation: 1, observed: 1, replicas: 2, available: 2, ready: 1, updated: 2).notReady
                == "only 1 of 2 replicas are ready")
        let fresh = try JSONDecoder().decode(DeploymentState.self, from: Data(#"{"metadata":{"name":"x","generation":1}}"#.utf8))
        #expect(fresh.notReady != nil, "no status yet is not ready")
    }

    func event(_ rs: String, uid: String = "u1", message: String) throws -> KubeEvent {
        let object: [String: Any] = [
            "metadata": ["name": "\(rs).1"], "involvedObject": ["kind": "ReplicaSet", "namespace": "ns", "name": rs, "uid": uid],
            "reason": "FailedCreate", "message": message, "type": "Warning", "count": 3, "lastTimestamp": "2026-12-01T10:00:00Z",
        ]
        return try JSONDecoder().decode(KubeEvent.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func admissionRefusalFromTheReplicaSetsFailedCreate() throws {
        let events = [
            try event("pod-to-a-denied-cnp-6f7b9c", message: "Error creating: pods \"pod-to-a-denied-cnp-6f7b9c-x\" is forbidden: exceeded quota: q"),
            try event("pod-to-a-5d8f4b", uid: "u2", message: "Error creating: pods \"pod-to-a-5d8f4b-y\" is forbidden: exceeded quota: q"),
        ]
        #expect(AdmissionRejection.message(for: "pod-to-a", in: events) == "pods \"pod-to-a-5d8f4b-y\" is forbidden: exceeded quota: q")
        #expect(AdmissionRejection.message(for: "pod-to-a", in: events, stale: ["u2"]) == nil, "an earlier run's ReplicaSet")
        #expect(AdmissionRejection.message(for: "pod-to-b", in: events) == nil)
        #expect(AdmissionRejection.replicaSets(in: events) == ["u1", "u2"])
    }

    @Test func rbacRefusalNamesVerbAndResource() {
        let cluster = KubeAPIError(code: 403, reason: "Forbidden",
                                   message: #"namespaces is forbidden: User "system:serviceaccount:default:viewer" cannot create resource "namespaces" in API group "" at the cluster scope"#,
                                   method: "POST", path: "/api/v1/namespaces")
        #expect(cluster.isAuthorizationDenied)
        #expect(APIErrorText.line(cluster).hasPrefix("RBAC refused: create namespaces (cluster scope): "))
        let namespaced = KubeAPIError(code: 403, reason: "Forbidden",
                                      message: #"deployments.apps is forbidden: User "u" cannot create resource "deployments" in API group "apps" in the namespace "x""#,
                                      method: "POST", path: "/apis/apps/v1/namespaces/x/deployments")
        #expect(APIErrorText.line(namespaced).hasPrefix("RBAC refused: create deployments.apps in namespace x: "))
        let quota = KubeAPIError(code: 403, reason: "Forbidden", message: #"pods "p" is forbidden: exceeded quota: q"#, method: "POST", path: "/x")
        #expect(!quota.isAuthorizationDenied, "an admission plugin's 403 is not RBAC")
        let unauthorized = KubeAPIError(code: 401, reason: "Unauthorized", message: "Unauthorized", method: "GET", path: "/version")
        #expect(APIErrorText.line(unauthorized).contains("401 Unauthorized"))
    }

    @Test func leaseHeldUntilItExpires() {
        let now = Date(timeIntervalSince1970: 1_796_112_000)
        func lease(renewedSecondsAgo: Double) -> Lease {
            Lease(metadata: ObjectMeta(name: RunLease.name),
                  spec: .init(holderIdentity: "conntest pid 7 on h", leaseDurationSeconds: 30,
                              renewTime: KubeTime.microTime(now.addingTimeInterval(-renewedSecondsAgo))))
        }
        #expect(RunLease.heldBy(lease(renewedSecondsAgo: 3), now: now) == "conntest pid 7 on h, lease renewed 3 s ago")
        #expect(RunLease.heldBy(lease(renewedSecondsAgo: 31), now: now) == nil, "a killed run's lease expires")
    }

    @Test func refusedNodePortFallsBackToClusterIP() throws {
        let doc = try JSONDecoder().decode(YAMLNode.self, from: Data("""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo-b"},
             "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 8080, "nodePort": 31414}], "selector": {"name": "echo-b"}}}
            """.utf8))
        let service = Resource(kind: .service, name: "echo-b", labels: nil, document: doc)
        let clusterIP = try #require(KubeWorkload.asClusterIP(service))
        #expect(clusterIP.document.value(at: "spec", "type")?.stringValue == "ClusterIP")
        #expect(clusterIP.document.value(at: "spec", "ports")?.arrayValue?.first?["nodePort"] == nil)
        #expect(clusterIP.document.value(at: "spec", "ports")?.arrayValue?.first?["port"]?.looseIntValue == 8080)
        #expect(KubeWorkload.asClusterIP(clusterIP) == nil)
    }

    /// A kubeconfig run probes only what the user named: the address for pod-to-external-1111, the
    /// name for the FQDN check; policy checks run (the cluster's CNI enforces).
    @Test func externalChecksNeedTheTargetTheyProbe() throws {
        let workload = try RunWorkload(resources: ConnectivitySuite.resources())
        func kube(ip: Bool, name: Bool) -> [String: String] {
            LocalCapabilities(externalHost: ip, externalFQDN: name, noExternalReason: LocalCapabilities.noExternalTargetReason,
                              l7Policy: true, fqdnPolicy: true, policyEnforcement: true).skipReasons(for: workload)
        }
        #expect(kube(ip: false, name: false) == ["pod-to-external-1111": LocalCapabilities.noExternalTargetReason,
                                                 "pod-to-external-fqdn-allow-google-cnp": LocalCapabilities.noExternalTargetReason])
        #expect(kube(ip: false, name: true) == ["pod-to-external-1111": LocalCapabilities.noExternalTargetReason])
        #expect(kube(ip: true, name: false) == ["pod-to-external-fqdn-allow-google-cnp": LocalCapabilities.noExternalTargetReason])
        #expect(kube(ip: true, name: true) == [:])
        // Locally the simulated host serves both.
        let local = LocalCapabilities(externalHost: true, policyEnforcement: true).skipReasons(for: workload)
        #expect(local["pod-to-external-1111"] == nil)
        #expect(local["pod-to-external-fqdn-allow-google-cnp"] == "unsupported locally: FQDN rules")
    }
}
