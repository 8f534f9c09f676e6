import ArgumentParser
import Executor
import Foundation
import Operations
import Store

/// Options every hk command takes (DESIGN.md §3).
public struct GlobalOptions: ParsableArguments, Sendable {
  @Option(name: .long, help: "The GitOps repository root (holds environments/ and state/).")
  public var root: String = "."

  @Option(
    name: .customLong("state-db"),
    help: "The state location: PATH, sqlite:PATH, postgres://… or s3://BUCKET/KEY (default: HK_STATE_DB or ROOT/state/hk.sqlite).")
  public var stateDB: String?

  @Option(name: .long, help: "The kops executable; beats HK_KOPS_MAP, HK_KOPS and environment.yaml kopsPath.")
  public var kops: String?

  @Option(
    name: .customLong("kops-map"),
    help: "VERSION=PATH: the kops for environments whose kopsVersion is VERSION (1.28.4 or 1.28); repeatable; beats --kops.")
  public var kopsMap: [String] = []

  @Option(name: .long, help: "The aws executable (default: HK_AWS or aws on PATH).")
  public var aws: String?

  @Flag(name: .customLong("no-color"), help: "Never colour output (NO_COLOR is honoured too).")
  public var noColor: Bool = false

  public init() {}

  /// Points the S3 state backend at the same aws binary as the gateway steps (`--aws`, `HK_AWS`).
  public mutating func validate() throws {
    StateStores.aws = AWSProcess(executable: awsExecutable)
  }

  var env: [String: String] { ProcessInfo.processInfo.environment }

  /// The state location (DESIGN.md §8): `--state-db`, else `HK_STATE_DB`, else `ROOT/state/hk.sqlite`.
  public var stateDBPath: String {
    if let s = stateDB { return s }
    if let s = env["HK_STATE_DB"], !s.isEmpty { return s }
    return root + "/state/hk.sqlite"
  }

  /// Who picks each environment's kops: command line, then environment variables, then the
  /// repository's `kopsPath` (``KopsSelection``).
  public func kopsSelection() throws -> KopsSelection {
    let env = self.env
    return KopsSelection(
      commandLine: kops, commandLineMap: try KopsSelection.parseMap(kopsMap, source: "--kops-map"),
      environmentVariable: env["HK_KOPS"].flatMap { $0.isEmpty ? nil : $0 },
      environmentMap: try KopsSelection.parseMap(env["HK_KOPS_MAP"].map { [$0] } ?? [], source: "HK_KOPS_MAP"))
  }
  /// The operator's choices every operation works with; diagnostics and notices are printed on
  /// `term`. With `runsKops: false` (plan, which runs neither kops nor aws) the kops options are
  /// not read, so a bad `--kops-map` is left to the commands that use it.
  /// - Throws: a malformed `--kops-map` / `HK_KOPS_MAP` (``Executor/KopsSelection/parseMap(_:source:)``).
  public func context(_ term: Terminal, runsKops: Bool = true) throws -> OperationContext {
    OperationContext(
      root: root, stateLocation: stateDBPath, kops: runsKops ? try kopsSelection() : KopsSelection(), aws: awsExecutable,
      report: { term.print($0) }, notice: { term.err($0) })
  }
  public var awsExecutable: String { aws ?? env["HK_AWS"].flatMap { $0.isEmpty ? nil : $0 } ?? "aws" }
  public var terminal: Terminal { Terminal(noColor: noColor) }
}

/// Output formats of plan and drift.
public enum OutputFormat: String, ExpressibleByArgument, Sendable, CaseIterable {
  case text, markdown, json
}
