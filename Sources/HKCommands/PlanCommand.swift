import ArgumentParser
import Config
import Foundation
import Model
import Planner
import Store

extension HK {
  /// `hk plan`: desired configuration vs recorded state, as text, markdown or JSON.
  public struct PlanCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract: "Show what apply would change: desired files vs the recorded state (runs no kops or aws).",
      discussion: """
        Markdown output larger than one pull-request comment is split into parts separated by a line
        '<!-- hk:part -->'. With --detailed-exitcode: 0 no changes, 2 changes, 1 error.
        """)

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "Environments to plan (default: all).") public var environments: [String] = []
    @Option(name: .customLong("changed-since"), help: "Only environments whose files (or base) differ from this git ref.")
    public var changedSince: String?
    @Option(help: "text, markdown or json.") public var format: OutputFormat = .text
    @Option(name: .customLong("out"), help: "Also save the plan to this file for 'hk apply --plan FILE'.")
    public var out: String?
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
      let result = try PlanService(global: global).plan(names, term: term)
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
      case .text: term.out(PlanRenderer(color: term.color).text(plan))
      case .json: term.out(PlanJSON.render(plan))
      case .markdown: term.out(PlanRenderer().markdown(plan).joined(separator: "\n<!-- hk:part -->\n"))
      }
    }
  }
}

/// Loads environments and recorded state and builds the plan; shared by plan and apply.
struct PlanService {
  var global: GlobalOptions

  struct Result {
    var plan: Plan
    var environments: [Environment]
    var failed: [String]
  }

  /// Plans the named environments. Environments with errors are reported (diagnostics on
  /// stderr) and left out; the others are planned.
  func plan(_ names: [String], term: Terminal) throws -> Result {
    let loaded: LoadedEnvironments
    do {
      loaded = try Workspace(root: global.root).load(names)
    } catch {
      term.print(error.diagnostics)
      throw ExitCode.failure
    }
    for (_, diags) in loaded.diagnostics where diags.contains(where: { $0.severity == .error }) {
      term.print(diags.filter { $0.severity == .error })
    }
    let store = try StoreAccess.openForReading(global.stateDBPath)
    var plans: [EnvironmentPlan] = []
    for env in loaded.environments {
      let recorded = try store?.recorded(env.name)
      do {
        plans.append(try PlanBuilder.plan(env, recorded: recorded, kops: kopsFor(env), aws: global.awsExecutable))
      } catch {
        throw CommandError.message(error.description)
      }
    }
    return Result(plan: Plan(environments: plans), environments: loaded.environments, failed: loaded.failed)
  }

  /// The kops binary for an environment: its `kopsPath`, else --kops / HK_KOPS / kops.
  func kopsFor(_ env: Environment) -> String { env.settings.kopsPath ?? global.kopsExecutable }
}

/// Opens the state database the way each command needs it.
enum StoreAccess {
  /// For read-only commands (plan, drift's pending part): a missing database is an empty state
  /// and is not created.
  static func openForReading(_ path: String) throws -> (any StateStoring)? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    // An empty file is an empty state too (SQLite would write its schema into it on open).
    var info = stat()
    if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size == 0 { return nil }
    return try SQLiteStateStore(path: path)
  }

  /// For commands that record (apply, import, lock): created when missing.
  static func open(_ path: String) throws -> any StateStoring {
    try SQLiteStateStore(path: path)
  }
}
