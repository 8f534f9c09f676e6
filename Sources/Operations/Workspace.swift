import Config
import Foundation
import Model

/// Environments loaded for a command, with the diagnostics each produced.
public struct LoadedEnvironments: Sendable {
  public var environments: [Environment] = []
  /// Per environment, in the order asked for (errors and warnings).
  public var diagnostics: [(name: String, diagnostics: [Diagnostic])] = []
  public var hasErrors: Bool { diagnostics.contains { $0.diagnostics.contains { $0.severity == .error } } }
  public var failed: [String] {
    diagnostics.filter { $0.diagnostics.contains { $0.severity == .error } }.map(\.name)
  }
}

/// Loads and validates environments from a repository; nothing here runs kops or aws.
public struct Workspace: Sendable {
  public var repository: Repository

  /// `digestsFiles: false` skips the SHA-256 of every file read (see
  /// ``Repository/digestsFiles``): for commands that only validate.
  public init(root: String, digestsFiles: Bool = true) {
    repository = Repository(root: root, digestsFiles: digestsFiles)
  }

  /// Resolves the names (all when empty) and loads each; load failures become diagnostics of
  /// that environment and do not stop the others.
  public func load(_ names: [String], validate: Bool = true) throws(DiagnosticError) -> LoadedEnvironments {
    load(resolved: try repository.resolveNames(names), validate: validate)
  }

  /// Loads names that ``Repository/resolveNames(_:)`` returned. `crossChecks: false` skips the
  /// checks across the environments loaded together (``Validator/validate(together:)``), which
  /// only warn: for commands that report errors alone (plan and apply), whose outcome they
  /// cannot change.
  public func load(resolved: [String], validate: Bool = true, crossChecks: Bool = true) -> LoadedEnvironments {
    let repository = repository
    // Each environment loads, then validates, on its own (in parallel); the results keep the
    // order of `resolved`, so output does not depend on scheduling. All environments load
    // before any is validated: each pass runs one body of code a thousand times (the parser's,
    // then the rules'), which the CPU's caches keep; loading and validating each environment in
    // turn took 2–5 % more CPU time on one CPU (docs/PERFORMANCE.md, eleventh round).
    let loads = Parallel.map(resolved) { name -> (Environment?, [Diagnostic]) in
      do throws(DiagnosticError) {
        return (try repository.load(name), [])
      } catch {
        return (nil, error.diagnostics)
      }
    }
    let results = validate ? Parallel.map(loads) { r in r.0.map { ($0, Validator.validate($0)) } ?? r } : loads
    // Checks across the environments loaded together (shared network ids: warnings).
    let together = validate && crossChecks ? Validator.validate(together: results.compactMap(\.0)) : [:]
    var out = LoadedEnvironments()
    for (name, (env, diags)) in zip(resolved, results) {
      out.diagnostics.append((name, diags + (together[name] ?? [])))
      if let env, !diags.contains(where: { $0.severity == .error }) { out.environments.append(env) }
    }
    return out
  }
}
