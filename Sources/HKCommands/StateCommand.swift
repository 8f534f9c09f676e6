import ArgumentParser
import Config
import Foundation
import Model
import Operations
import Store

extension HK {
  /// `hk state list | show ENV [--serial N] | history ENV`.
  public struct StateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "state", abstract: "Inspect the recorded state, or copy it to another backend.",
      subcommands: [List.self, Show.self, History.self, Migrate.self])
    public init() {}

    /// `hk state list`.
    public struct List: AsyncParsableCommand {
      public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Environments with their serial, lineage, last apply and result.")
      @OptionGroup public var global: GlobalOptions
      public init() {}
      public func run() async throws {
        let term = global.terminal
        guard let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: true, notice: { term.err($0) }) else {
          term.out("No state recorded yet (nothing at \(StoreLocation.redact(global.stateDBPath))).\n")
          return
        }
        let rows = try store.environments()
        if rows.isEmpty {
          term.out("No state recorded yet.\n")
          return
        }
        var table = [["ENVIRONMENT", "SERIAL", "LINEAGE", "LAST APPLIED", "BY", "LAST RESULT"]]
        for r in rows {
          table.append([
            r.name, String(r.serial), String(r.lineage.prefix(8)), Format.date(r.lastAppliedAt), r.lastAppliedBy,
            r.lastRunResult?.rawValue ?? "-",
          ])
        }
        term.out(Format.table(table))
      }
    }

    /// `hk state show ENV [--serial N]`: the recorded manifests and layers.
    public struct Show: AsyncParsableCommand {
      public static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a recorded revision: its layers and manifests (secrets redacted).")
      @OptionGroup public var global: GlobalOptions
      @Argument(help: "The environment.") public var environment: String
      @Option(help: "A revision serial (default: the latest).") public var serial: Int64?
      @Option(
        name: .customLong("run"),
        help: "An apply run (see 'hk state history ENV'): each command's argv, exit status, duration, output tail.")
      public var runID: Int64?
      @Flag(
        name: .customLong("show-content"),
        help: "Show file-asset and user-data contents (redacted) instead of their digest and length.")
      public var showContent: Bool = false
      public init() {}
      public func run() async throws {
        let term = global.terminal
        guard Environment.isValidName(environment) else {
          throw CommandError.message(
            "'\(environment)' is not an environment name; name one of those 'hk state list' shows")
        }
        if let run = runID {
          let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: true, notice: { term.err($0) })
          guard let summary = try store?.runs(environment, limit: Int.max).first(where: { $0.id == run }), let store else {
            throw CommandError.message("no run \(run) of \(environment); 'hk state history \(environment)' lists its runs")
          }
          term.out(RunJournal.render(summary, entries: try store.journal(runID: run)))
          return
        }
        guard let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: true, notice: { term.err($0) }),
          let state = try (serial.map { try store.revision(environment, serial: $0) } ?? store.recorded(environment))
        else {
          throw CommandError.message(
            "nothing recorded for \(environment)\(serial.map { " at serial \($0)" } ?? ""); see 'hk state list' and 'hk state history \(environment)'"
          )
        }
        var s = "# environment: \(state.environment)\n# serial: \(state.serial)\n# lineage: \(state.lineage)\n"
        s += "# objects written to the kops state store; cloud updated: \(state.cloudUpdated ? "yes" : "no (kops update --yes owed)")\n"
        s += "# rolls owed: \(state.pendingRolls.isEmpty ? "none" : state.pendingRolls.joined(separator: ", "))\n"
        s += "# validated since the cloud last changed: \(state.validated ? "yes" : "no (kops validate cluster owed)")\n"
        s += "# internet gateway attached by hk: \(state.igwAttached ? "yes (detach owed)" : "no")\n"
        if let v = state.kopsVersion { s += "# kops: \(v)\n" }
        if let c = state.gitCommit { s += "# git commit of the desired files: \(c)\n" }
        // Groups kops marked NeedsUpdate that a plan did not predict (journaled by apply).
        let misses = try store.runs(environment, limit: 10_000).reduce(0) { n, run in
          n + (try store.journal(runID: run.id)).filter { $0.kind == "prediction-miss" }.count
        }
        s += "# prediction misses (rolls kops decided that a plan did not predict): \(misses)\n"
        // Redacted as trees: a policy's JSON inside a YAML string is redacted key by key.
        let manifests = ([state.clusterYAML] + state.instanceGroupsYAML).filter { !$0.isEmpty }.map { text in
          (try? YAMLParser.parse(text, file: "recorded").first).map {
            YAMLEmitter.emit(Redaction.redact(showContent ? $0 : Redaction.concealContent($0)))
          }
            ?? Redaction.redact(text: text)
        }
        s += manifests.joined(separator: "---\n")
        term.out(s)
      }
    }

    /// `hk state history ENV`: revisions with notes and apply results.
    public struct History: AsyncParsableCommand {
      public static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Revisions of an environment, with what wrote them, and its apply runs.")
      @OptionGroup public var global: GlobalOptions
      @Argument(help: "The environment.") public var environment: String
      public init() {}
      public func run() async throws {
        let term = global.terminal
        guard let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: true, notice: { term.err($0) }) else {
          term.out("No state recorded yet.\n")
          return
        }
        let revisions = try store.history(environment)
        if revisions.isEmpty { throw CommandError.message("nothing recorded for \(environment); see 'hk state list'") }
        var table = [["SERIAL", "LINEAGE", "AT", "BY", "CLOUD", "ROLLS OWED", "IGW", "NOTE"]]
        for r in revisions {
          table.append([
            String(r.serial), String(r.lineage.prefix(8)), Format.date(r.createdAt), r.createdBy, r.cloudUpdated ? "updated" : "owed",
            r.pendingRolls.isEmpty ? "-" : r.pendingRolls.joined(separator: ","), r.igwAttached ? "attached" : "-", r.note,
          ])
        }
        term.out(Format.table(table))
        let runs = try store.runs(environment, limit: 20)
        if !runs.isEmpty {
          term.out("\nApply runs:\n")
          var rt = [["RUN", "STARTED", "RESULT", "BY", "MESSAGE"]]
          for r in runs {
            rt.append([
              String(r.id), Format.date(r.startedAt), r.result.rawValue, r.holder, String(r.message.split(separator: "\n").first ?? ""),
            ])
          }
          term.out(Format.table(rt))
        }
      }
    }
  }

  /// `hk lock list | unlock ENV --force LOCK_ID`.
  public struct LockCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "lock", abstract: "Show or break environment locks.", subcommands: [List.self, Unlock.self])
    public init() {}

    public struct List: AsyncParsableCommand {
      public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Leases held: holder, since, expires; a lapsed one is shown as expired.")
      @OptionGroup public var global: GlobalOptions
      public init() {}
      public func run() async throws {
        let term = global.terminal
        guard let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: true, notice: { term.err($0) }) else {
          term.out("No locks.\n")
          return
        }
        let locks = try store.locks()
        if locks.isEmpty {
          term.out("No locks.\n")
          return
        }
        var table = [["ENVIRONMENT", "LOCK ID", "HOLDER", "COMMAND", "SINCE", "EXPIRES", "STATE", "CI RUN"]]
        let now = Date()
        for l in locks {
          let state =
            l.isExpired(at: now)
            ? "expired" : l.isStale ? "stale (holder is gone; its lease lapses at EXPIRES)" : "held"
          table.append([
            l.environment, l.lockID, "\(l.user)@\(l.host) pid \(l.pid)", StoreLocation.redactURLs(in: l.command),
            Format.date(l.startedAt), Format.date(l.expiresAt), state, l.ciRunURL ?? "-",
          ])
        }
        term.out(Format.table(table))
        if locks.contains(where: { $0.isExpired(at: now) }) {
          term.out(
            "\nAn expired lease was left by a run that died: the next 'hk apply ENV' takes it over and finishes its work.\n"
          )
        }
      }
    }

    public struct Unlock: AsyncParsableCommand {
      public static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Break a lock (only with --force and its exact ID).")
      @OptionGroup public var global: GlobalOptions
      @Argument(help: "The environment.") public var environment: String
      @Option(name: .customLong("force"), help: "The lock ID, as 'hk lock list' shows it.") public var lockID: String
      public init() {}
      public func run() async throws {
        guard Environment.isValidName(environment) else {
          throw CommandError.message(
            "'\(environment)' is not an environment name; name one of those 'hk state list' shows")
        }
        let term = global.terminal
        guard let store = try StoreAccess.openForReading(global.stateDBPath, snapshot: false, notice: { term.err($0) }),
          let held = try store.lock(environment)
        else {
          throw CommandError.message("\(environment) is not locked; nothing to do")
        }
        if !held.isStale && !held.isExpired() {
          global.terminal.err(
            "warning: the holder (\(held.user)@\(held.host) pid \(held.pid)) may still be running; breaking its lock anyway as asked\n")
        }
        try store.forceUnlock(environment, lockID: lockID)
        global.terminal.out("Unlocked \(environment) (lock \(lockID)). Run 'hk apply \(environment)' to finish any interrupted work.\n")
      }
    }
  }
}
