/// One user-facing problem with a source position: `file:line:col: severity: message`.
///
/// Every problem hk finds in a user's files is one of these. The message is lower-case, has no
/// trailing period, names the key it is about and says what to do next.
public struct Diagnostic: HKError, Hashable, CustomStringConvertible {
  /// How bad the problem is; `error` makes `hk validate` exit 1 and stops plan/apply.
  public enum Severity: String, Sendable, Hashable, Codable, Comparable {
    case error, warning, note
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    private var rank: Int {
      switch self {
      case .error: 0
      case .warning: 1
      case .note: 2
      }
    }
  }

  /// A position in a file. `line` and `column` are 1-based; columns count Unicode scalars.
  public struct Location: Hashable, Sendable, Codable {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
      self.file = file
      self.line = line
      self.column = column
    }
  }

  public var severity: Severity
  public var message: String
  public var location: Location?
  /// A short machine-readable rule id (e.g. `hybrid-public-api-lb`), used by tests and filters.
  public var rule: String?

  public init(_ severity: Severity, _ message: String, at location: Location? = nil, rule: String? = nil) {
    self.severity = severity
    self.message = message
    self.location = location
    self.rule = rule
  }

  public init(_ severity: Severity, _ message: String, at mark: Mark?, rule: String? = nil) {
    self.init(severity, message, at: mark.map { Location(mark: $0) }, rule: rule)
  }

  public var description: String {
    (location.map { "\($0.file):\($0.line):\($0.column): " } ?? "") + "\(severity.rawValue): \(message)"
  }
  public var errorDescription: String? { description }
  /// The message says what to do next (see above).
  public var nextStep: String { message }
}

extension Diagnostic.Location {
  public init(mark: Mark) {
    self.init(file: mark.file, line: Int(mark.line), column: Int(mark.column))
  }
}

/// A bundle of diagnostics thrown when loading fails; `description` lists them one per line.
public struct DiagnosticError: HKError, CustomStringConvertible {
  public var diagnostics: [Diagnostic]
  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
  public init(_ diagnostic: Diagnostic) { self.diagnostics = [diagnostic] }
  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  public var errorDescription: String? { description }
  /// Each diagnostic's message says what to fix; the first one's is the next step.
  public var nextStep: String { diagnostics.first?.message ?? "fix the files and run the command again" }
}
