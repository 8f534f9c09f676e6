/// A test ``CommandRunner``: records every invocation and answers from a closure, without
/// starting any process.
///
/// ```swift
/// let runner = RecordingRunner { invocation in
///   invocation.arguments.first == "version" ? .init(stdout: "1.28.4\n") : .init()
/// }
/// _ = try await KopsCLI(executable: "kops", stateStore: "s3://s", cluster: "c", runner: runner).version()
/// #expect(await runner.invocations.map(\.arguments) == [["version", "--short"]])
/// ```
///
/// The canned result's stdout and stderr are replayed to `onLine` line by line (stdout first).
/// A responder that throws makes `run` throw, e.g. ``ExecutableNotFoundError`` to test
/// a missing binary. Not for end-to-end tests: those run the kops double as a real process.
public actor RecordingRunner: CommandRunner {
  /// Produces the result for one invocation.
  public typealias Responder = @Sendable (CommandInvocation) async throws -> CommandResult

  /// Every invocation, in call order.
  public private(set) var invocations: [CommandInvocation] = []
  private let responder: Responder

  /// Answers every invocation with `responder`.
  public init(_ responder: @escaping Responder) {
    self.responder = responder
  }

  /// Answers by argv: the first entry of `table` whose key is a prefix of the invocation's
  /// `arguments` wins (so `["update", "cluster"]` matches every update); otherwise `fallback`.
  public init(table: [(arguments: [String], result: CommandResult)], fallback: CommandResult = CommandResult()) {
    self.responder = { invocation in
      for entry in table where invocation.arguments.starts(with: entry.arguments) {
        return entry.result
      }
      return fallback
    }
  }

  /// Answers the invocations in order with `results`; once they run out, with `fallback`.
  public init(sequence results: [CommandResult], fallback: CommandResult = CommandResult()) {
    let queue = ResultQueue(results)
    self.responder = { _ in await queue.next() ?? fallback }
  }

  public func run(
    _ invocation: CommandInvocation, onLine: (@Sendable (OutputLine) -> Void)?
  ) async throws -> CommandResult {
    invocations.append(invocation)
    let result = try await responder(invocation)
    if let onLine {
      for line in Self.lines(result.stdout) { onLine(OutputLine(.stdout, line)) }
      for line in Self.lines(result.stderr) { onLine(OutputLine(.stderr, line)) }
    }
    return result
  }

  /// The arguments of every invocation (without the executable), in call order.
  public var argumentLists: [[String]] { invocations.map(\.arguments) }

  private static func lines(_ text: String) -> [String] {
    guard !text.isEmpty else { return [] }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if text.hasSuffix("\n") { lines.removeLast() }
    return lines
  }
}

/// The canned results of ``RecordingRunner/init(sequence:fallback:)``.
private actor ResultQueue {
  private var results: [CommandResult]
  init(_ results: [CommandResult]) { self.results = results }
  func next() -> CommandResult? { results.isEmpty ? nil : results.removeFirst() }
}
