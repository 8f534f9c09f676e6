import Foundation
import Model

/// How much YAML hk reads, per environment and per run (docs/SECURITY.md): a pull request
/// controls the files, and without a budget forty files of 6 MB took 2.25 GB and 95 s.
///
/// Per file, ``YAMLLimits`` bounds bytes, depth and nodes (aliases expanded); these bound
/// their sums. A shared base counts once per run (it is read once).
public struct InputBudget: Sendable {
  /// Bytes of YAML one environment may read (its own files, and its base when it is the first
  /// to read it: a shared base counts once per run).
  public var environmentBytes: Int
  /// Files one environment may read (`environment.yaml`, `cluster.yaml`, its base, manifests).
  public var environmentFiles: Int
  /// Bytes of YAML one run may read across every environment.
  public var runBytes: Int

  public init(environmentBytes: Int = 16 << 20, environmentFiles: Int = 256, runBytes: Int = 256 << 20) {
    self.environmentBytes = environmentBytes
    self.environmentFiles = environmentFiles
    self.runBytes = runBytes
  }

  public static let `default` = InputBudget()
}

/// The bytes read so far in one run (shared by the environments loading in parallel).
final class RunSpending: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes = 0

  /// Adds `count` bytes; false when that goes over `limit` (the bytes are counted anyway).
  func spend(_ count: Int, limit: Int) -> Bool {
    lock.withLock {
      bytes += count
      return bytes <= limit
    }
  }
}

/// One environment's spending while it loads.
struct EnvironmentSpending {
  var bytes = 0
  var files = 0

  /// Counts one file of `count` bytes read for `name` at `rel`; throws the first limit it breaks.
  mutating func spend(
    _ count: Int, file rel: String, environment name: String, budget: InputBudget, run: RunSpending
  ) throws(DiagnosticError) {
    bytes += count
    files += 1
    let at = Diagnostic.Location(file: rel, line: 1, column: 1)
    if files > budget.environmentFiles {
      throw DiagnosticError(
        Diagnostic(
          .error,
          "environment \(name) reads more than \(budget.environmentFiles) files, hk's limit per environment; "
            + "merge manifests or move what kops does not need out of environments/\(name)",
          at: at, rule: "budget-environment"))
    }
    if bytes > budget.environmentBytes {
      throw DiagnosticError(
        Diagnostic(
          .error,
          "environment \(name) reads \(bytes) bytes of YAML, over hk's limit of \(budget.environmentBytes) per environment; "
            + "remove what kops does not need", at: at, rule: "budget-environment"))
    }
    if !run.spend(count, limit: budget.runBytes) {
      throw DiagnosticError(
        Diagnostic(
          .error,
          "this run has read over \(budget.runBytes) bytes of YAML, hk's limit per run; name fewer environments "
            + "(hk plan ENV…) or use --changed-since", at: at, rule: "budget-run"))
    }
  }
}
