import Foundation
import Model

/// Errors of hk's commands that are not about a position in a file.
public enum CommandError: HKError {
  case invalidEnvironments([String])
  case gitFailed(String)
  case noTerminal
  case declined
  /// A reviewed plan that may not run: (what was reviewed, what differs, what to do next).
  case planRefused(String, String, next: String)
  case message(String)

  public var nextStep: String {
    switch self {
    case .invalidEnvironments: "fix them and run the command again"
    case .planRefused(_, _, let next): next
    case .noTerminal, .declined, .gitFailed, .message: NextStep.of(errorDescription ?? "", otherwise: errorDescription ?? "")
    }
  }

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
