import ArgumentParser
import Foundation

/// The entry point the project's daemons and CLIs share: usage errors exit 2 with
/// `Error: <message>` (ArgumentParser would use 64), any other error prints `Error: <description>`
/// and exits 1, as upstream's cobra-based tools do.
public enum CommandMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type, arguments: [String]? = nil) async -> Never {
        do {
            var command = try Root.parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            if Root.exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data("Error: \(Root.message(for: error))\n".utf8))
                exit(2)
            }
            Root.exit(withError: error)
        }
    }
}

/// Runs a library check inside `validate()`, so its failure is reported as a usage error
/// (exit 2) like every other bad flag, instead of a runtime failure (exit 1).
public func asUsageError(_ check: () throws -> Void) throws {
    do { try check() } catch let error as ValidationError { throw error } catch { throw ValidationError("\(error)") }
}
