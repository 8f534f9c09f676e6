import Config
import Foundation
import Model

/// Environments loaded for a command, with the diagnostics each produced.
struct LoadedEnvironments: Sendable {
  var environments: [Environment] = []
  /// Per environment, in the order asked for (errors and warnings).
  var diagnostics: [(name: String, diagnostics: [Diagnostic])] = []
  var hasErrors: Bool { diagnostics.contains { $0.diagnostics.contains { $0.severity == .error } } }
  var failed: [String] {
    diagnostics.filter { $0.diagnostics.contains { $0.severity == .error } }.map(\.name)
  }
}

/// Loads and validates environments from a repository; nothing here runs kops or aws.
struct Workspace: Sendable {
  var repository: Repository

  init(root: String) {
    repository = Repository(root: root)
  }

  /// Resolves the names (all when empty) and loads each; load failures become diagnostics of
  /// that environment and do not stop the others.
  func load(_ names: [String], validate: Bool = true) throws(DiagnosticError) -> LoadedEnvironments {
    load(resolved: try repository.resolveNames(names), validate: validate)
  }

  /// Loads names that ``Repository/resolveNames(_:)`` returned.
  func load(resolved: [String], validate: Bool = true) -> LoadedEnvironments {
    let repository = repository
    // Each environment loads and validates on its own (in parallel); the results keep the
    // order of `resolved`, so output does not depend on scheduling.
    let results = Parallel.map(resolved) { name -> (Environment?, [Diagnostic]) in
      do throws(DiagnosticError) {
        let env = try repository.load(name)
        return (env, validate ? Validator.validate(env) : [])
      } catch {
        return (nil, error.diagnostics)
      }
    }
    // Checks across the environments loaded together (shared network ids: warnings).
    let together = validate ? Validator.validate(together: results.compactMap(\.0)) : [:]
    var out = LoadedEnvironments()
    for (name, (env, diags)) in zip(resolved, results) {
      out.diagnostics.append((name, diags + (together[name] ?? [])))
      if let env, !diags.contains(where: { $0.severity == .error }) { out.environments.append(env) }
    }
    return out
  }
}

/// Errors of hk's commands that are not about a position in a file.
public enum CommandError: Error, LocalizedError, Sendable {
  case invalidEnvironments([String])
  case gitFailed(String)
  case noTerminal
  case declined
  /// A reviewed plan that may not run: (what was reviewed, what differs, what to do next).
  case planRefused(String, String, next: String)
  case message(String)

  public var errorDescription: String? {
    switch self {
    case .invalidEnvironments(let names):
      "\(names.joined(separator: ", ")) \(names.count == 1 ? "has" : "have") errors (above); fix them and run the command again"
    case .gitFailed(let m): "git failed: \(m)"
    case .noTerminal:
      "apply needs confirmation but there is no terminal; review the plan and run 'hk apply --yes' (or apply a saved plan with --plan FILE --yes)"
    case .declined: "apply cancelled; nothing was changed"
    case .planRefused(let what, let problems, let next):
      "refusing \(what): the reviewed plan is not what would run now (stale or edited): \(problems); nothing was run; \(next)"
    case .message(let m): m
    }
  }
}
