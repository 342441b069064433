/// Process exit codes of a local run.
///
/// Pending and skipped checks alone do not fail a run (exit 0): a one-node
/// cluster legitimately cannot place multi-node checks, and upstream shows them
/// Pending rather than failed. They are always listed in the summary line.
/// A definite failure outranks inconclusive: it is the more useful signal.
public enum RunExitCode: Int32, Sendable, Equatable {
    case success = 0
    /// At least one check failed after settling.
    case failure = 1
    /// Bad flags, unreadable workload, no nodes: nothing was run.
    case usage = 2
    /// The run timeout hit before every check settled and nothing failed for sure.
    case inconclusive = 3
}
