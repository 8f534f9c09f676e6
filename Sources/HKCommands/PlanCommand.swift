import ArgumentParser
import Config
import Foundation
import Model
import Operations
import Planner

extension HK {
  /// `hk plan`: desired configuration vs recorded state, as text, markdown or JSON.
  public struct PlanCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract: "Show what apply would change: desired files vs the recorded state (runs no kops or aws).",
      discussion: """
        Markdown output larger than one pull-request comment is split into parts separated by a line \
        '<!-- hk:part -->'. With --detailed-exitcode: 0 no changes, 2 changes, 1 error.
        """)

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "Environments to plan (default: all).") public var environments: [String] = []
    @Option(name: .customLong("changed-since"), help: "Only environments whose files (or base) differ from this git ref.")
    public var changedSince: String?
    @Option(help: "text, markdown or json.") public var format: OutputFormat = .text
    @Option(name: .customLong("out"), help: "Also save the plan to this file for 'hk apply --plan FILE'.")
    public var out: String?
    @Flag(
      name: .customLong("show-content"),
      help: "Show file-asset and user-data contents (redacted) instead of their digest and length.")
    public var showContent: Bool = false
    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 2 when there are changes.")
    public var detailedExitCode = false

    public init() {}

    public func run() async throws {
      let term = global.terminal
      var names = environments
      if let ref = changedSince {
        names = try await ChangedEnvironments.names(root: global.root, since: ref, among: environments)
        if names.isEmpty {
          term.err("No environment changed since \(ref).\n")
          try emit(Plan(environments: []), term: term)
          return
        }
      }
      // Text output lists the broken environments with their errors itself; json and markdown
      // list them too, and their errors also go to stderr for whoever reads the log.
      // Plan runs neither kops nor aws: a bad --kops-map is apply's and drift's to refuse.
      let operation = PlanOperation(try global.context(term, runsKops: false), showContent: showContent)
      let result = try await term.printingDiagnostics { try operation.plan(names, reportErrors: format != .text) }
      defer { KeepUntilExit.keep(result) }
      try emit(result.plan, term: term)
      if let out {
        do {
          try PlanJSON.render(result.plan).write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
          throw CommandError.message("cannot write the plan to \(out): \(error.localizedDescription); choose a writable path")
        }
        term.err("Saved the plan to \(out); apply it with 'hk apply --plan \(out)'.\n")
      }
      if !result.failed.isEmpty { throw CommandError.invalidEnvironments(result.failed) }
      if detailedExitCode && result.plan.hasChanges { throw ExitCode(2) }
    }

    func emit(_ plan: Plan, term: Terminal) throws {
      switch format {
      case .text:
        // Sections, their redaction and their digests are made in parallel (a thousand
        // environments make megabytes of text). Redacting the sections one by one is redacting
        // the whole when Redaction.redact(part:last:) takes every part; else the whole is.
        // Sections stay UTF-8 bytes from the renderer to the write (no String, no joined copy).
        let renderer = PlanRenderer(color: term.color)
        let sections = Parallel.map(plan.environments) { e in
          let (text, digest) = renderer.textUTF8AndDigest(e)
          return (text: text, redacted: Redaction.redact(part: text, last: false), digest: digest)
        }
        let digest = PlanDigest.combine(sections.map(\.digest))
        let tail = renderer.failures(plan) + renderer.summary(plan) + "\n" + renderer.digestLine(digest: digest) + "\n"
        var parts = sections.compactMap(\.redacted)
        if parts.count == sections.count, let end = Redaction.redact(part: tail, last: true) {
          parts.append(Array(end.utf8))
          term.out(redactedParts: parts)
        } else {
          term.out(sections.map { String(decoding: $0.text, as: UTF8.self) }.joined() + tail)
        }
      case .json: term.out(PlanJSON.render(plan))
      case .markdown: term.out(PlanRenderer().markdown(plan).joined(separator: "\n<!-- hk:part -->\n"))
      }
    }
  }
}
