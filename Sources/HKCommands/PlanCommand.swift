import ArgumentParser
import Config
import Foundation
import Model
import Planner
import Store
import Synchronization

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
      let result = try PlanService(global: global, showContent: showContent).plan(names, term: term, errorsToStderr: format != .text)
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
        // Sections and their digests are made in parallel (a thousand environments make
        // megabytes of text).
        let renderer = PlanRenderer(color: term.color)
        let sections = Parallel.map(plan.environments) { (renderer.text($0), PlanDigest.environmentDigest($0)) }
        let digest = PlanDigest.combine(sections.map(\.1))
        term.out(
          sections.map(\.0).joined() + renderer.failures(plan) + renderer.summary(plan) + "\n" + renderer.digestLine(digest: digest) + "\n")
      case .json: term.out(PlanJSON.render(plan))
      case .markdown: term.out(PlanRenderer().markdown(plan).joined(separator: "\n<!-- hk:part -->\n"))
      }
    }
  }
}

/// Loads environments and recorded state and builds the plan; shared by plan and apply.
struct PlanService {
  var global: GlobalOptions
  /// Show file and user-data contents (``PlanBuilder/plan(_:recorded:kops:aws:showContent:)``).
  var showContent = false

  struct Result {
    var plan: Plan
    var environments: [Environment]
    var failed: [String]
  }

  /// Plans the named environments. Environments with errors are left out of the plan's
  /// environments and listed in its ``Plan/failed`` (their errors also on stderr when
  /// `errorsToStderr`); the others are planned.
  func plan(_ names: [String], term: Terminal, errorsToStderr: Bool = true) throws -> Result {
    let workspace = Workspace(root: global.root)
    let resolved: [String]
    do {
      resolved = try workspace.repository.resolveNames(names)
    } catch {
      term.print(error.diagnostics)
      throw ExitCode.failure
    }
    // The recorded state is read while the files load (one core would idle otherwise); its
    // errors are reported after the files' diagnostics, as if read afterwards.
    let path = global.stateDBPath
    let reading = Background { () throws -> [String: RecordedState] in
      try StoreAccess.openForReading(path, snapshot: true)?.recorded(resolved) ?? [:]
    }
    let loaded = workspace.load(resolved: resolved)
    var failed: [FailedEnvironment] = []
    for (name, diags) in loaded.diagnostics where diags.contains(where: { $0.severity == .error }) {
      let errors = diags.filter { $0.severity == .error }
      if errorsToStderr { term.print(errors) }
      failed.append(FailedEnvironment(name: name, diagnostics: errors))
    }
    let recorded = try reading.value()
    defer { KeepUntilExit.keep(recorded) }
    // Plans name the executables `kops` and `aws` (never this machine's paths): apply resolves
    // them (--kops-map, --kops, HK_KOPS_MAP, HK_KOPS, then kopsPath; --aws), so a plan's digest
    // is the same on every machine.
    let showContent = self.showContent
    let planned = Parallel.map(loaded.environments) { env in
      Swift.Result { () throws(PlanningError) in
        try PlanBuilder.plan(env, recorded: recorded[env.name], showContent: showContent)
      }
    }
    var plans: [EnvironmentPlan] = []
    for p in planned {
      switch p {
      case .success(let plan): plans.append(plan)
      case .failure(let error): throw CommandError.message(error.description)
      }
    }
    return Result(plan: Plan(environments: plans, failed: failed), environments: loaded.environments, failed: loaded.failed)
  }
}

/// Opens the state location the way each command needs it, through the one factory
/// (``StateStores``): no command knows which backend it has.
enum StoreAccess {
  /// For read-only commands (plan, state, lock list, drift history): nothing is created or
  /// migrated; a location where hk never wrote is an empty state (nil), said once on stderr.
  ///
  /// With `snapshot` (the default) the database is opened read-only; commands that write
  /// (drift records its report, lock unlock) pass `false`.
  static func openForReading(_ location: String, snapshot: Bool = true) throws -> (any StateStoring)? {
    let opened = try StateStores.openForReading(location, snapshot: snapshot)
    say(opened.notice)
    return opened.store
  }

  private static let noticed = Mutex(false)

  /// Prints the first notice of the process on stderr (apply reads, then creates: said once).
  private static func say(_ notice: String?) {
    guard let notice,
      noticed.withLock({ done in
        defer { done = true }
        return !done
      })
    else { return }
    Terminal(noColor: true).err(notice + "\n")
  }

  /// For commands that record (apply, import): created when missing, said once on stderr.
  static func open(_ location: String) throws -> any StateStoring {
    let opened = try StateStores.open(location)
    say(opened.notice)
    guard let store = opened.store else { throw StoreError.unreadable(path: StoreLocation.redact(location)) }
    return store
  }
}
