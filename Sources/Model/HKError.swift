import Foundation

/// The one protocol of every error hk reports to its user: what went wrong
/// (``errorDescription``) and what to do next (``nextStep``: a command to run, a file to fix).
///
/// The CLI prints every error the same way (one message, redacted and escaped at the output
/// boundary); a message that does not already say its next step gets it appended, so no error
/// leaves the user without one.
public protocol HKError: LocalizedError, Sendable {
  /// What the user does next. Most messages already end with it.
  var nextStep: String { get }
}

extension HKError {
  public var recoverySuggestion: String? { nextStep }

  /// The message as hk prints it: the description, with the next step appended unless it
  /// already says it.
  public var userMessage: String {
    let description = errorDescription ?? String(describing: self)
    let next = nextStep
    if next.isEmpty || description.contains(next) { return description }
    return description + "; " + next
  }
}

/// Reads the next step out of a message written the house way, "what went wrong; what to do
/// next" (for error types that carry a finished message).
public enum NextStep {
  /// The clause after the message's last "; ", or `otherwise` when it has none.
  public static func of(_ message: String, otherwise: String) -> String {
    guard let range = message.range(of: "; ", options: .backwards) else { return otherwise }
    let next = message[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    return next.isEmpty ? otherwise : next
  }
}
