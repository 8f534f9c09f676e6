import Config
import Foundation
import Model
import Planner
import Store

/// A failure to read an environment's live side, phrased with what to do next.
public struct LiveAccessError: LocalizedError, Sendable, Hashable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var errorDescription: String? { message }
}

/// Reads one environment's live side, read-only: checks `kops version --short` against
/// `kopsVersion` (DESIGN.md §5), reads the Cluster and InstanceGroups through kops
/// (``LiveReader``), and for strategy `temporary` the gateway's attachments through aws.
///
/// Shared by `hk drift` and `hk import`. Never writes anything.
public struct LiveAccess: Sendable {
  /// What runs kops and aws.
  public var runner: any CommandRunner
  /// The kops binary for this environment (its `kopsPath`, else `--kops`/`HK_KOPS`/`kops`).
  public var kops: String
  /// The aws binary (`--aws`/`HK_AWS`/`aws`).
  public var aws: String
  public var env: Environment
  /// Variables added to every kops/aws call (on top of hk's own environment).
  public var environment: [String: String]

  public init(runner: any CommandRunner, kops: String, aws: String, env: Environment, environment: [String: String] = [:]) {
    self.runner = runner
    self.kops = kops
    self.aws = aws
    self.env = env
    self.environment = environment
  }

  var settings: EnvironmentSettings { env.settings }
  /// What every kops call gets: ``environment`` with the environment's AWS profile and region
  /// on top (``EnvironmentSettings/kopsEnvironment``).
  var kopsEnvironment: [String: String] { environment.merging(settings.kopsVariables) { _, own in own } }
  var kopsCLI: KopsCLI {
    KopsCLI(executable: kops, stateStore: settings.stateStore, cluster: settings.cluster, runner: runner, environment: kopsEnvironment)
  }

  /// What to do when this environment's kops is missing or fails to start.
  public var installAdvice: String {
    "install kops \(settings.kopsVersion) and pass --kops-map \(settings.kopsVersion)=PATH, --kops or HK_KOPS"
  }

  /// The kops binary's version, refused unless it equals `kopsVersion` (patch included).
  ///
  /// - Parameter versions: when given, one `kops version` per binary for the whole run (many
  ///   environments share a kops binary, and its version does not change while hk runs).
  /// - Returns: The version `kops version --short` printed.
  /// - Throws: ``LiveAccessError`` when kops cannot run or its major.minor differs, saying which
  ///   binary to use.
  public func checkedVersion(sharing versions: KopsVersions? = nil) async throws(LiveAccessError) -> KopsVersion {
    let version: KopsVersion
    do {
      let cli = kopsCLI
      if let versions {
        version = try await versions.version(of: kops) { try await cli.version() }
      } else {
        version = try await cli.version()
      }
    } catch var missing as ExecutableNotFoundError {
      // Its own text names the PATH searched; the advice is said once, for this environment.
      missing.hint = installAdvice
      throw LiveAccessError(missing.localizedDescription)
    } catch {
      throw LiveAccessError("cannot run '\(kops) version --short': \(error.localizedDescription); " + installAdvice)
    }
    // The whole version, patch included: every kops release ships a different nodeup, so a
    // different binary rewrites every launch template (DESIGN.md §5).
    guard version == settings.kopsVersion else {
      throw LiveAccessError(
        "kops \(version) does not match the environment's kopsVersion \(settings.kopsVersion) (the whole version must match: "
          + "every kops release ships a different nodeup and rewrites every launch template); use a kops \(settings.kopsVersion) "
          + "binary (--kops-map, --kops, HK_KOPS_MAP or HK_KOPS), or change kopsVersion on purpose (a planned kops upgrade)")
    }
    return version
  }

  /// The live Cluster and InstanceGroups (`cluster == nil` when the state store has none).
  public func readObjects(version: KopsVersion) async throws(LiveAccessError) -> LiveObjects {
    let reader = LiveReader(argv: KopsArgv(kops: kops, cluster: settings.cluster, stateStore: settings.stateStore), version: version)
    let runner = self.runner
    let environment = kopsEnvironment
    let result = await reader.read { argv in
      guard let executable = argv.first else { return (nil, "empty command") }
      let invocation = CommandInvocation(executable, Array(argv.dropFirst()), environment: environment, timeout: .seconds(300))
      do {
        return (try await runner.run(invocation), nil)
      } catch {
        return (nil, error.localizedDescription)
      }
    }
    switch result {
    case .success(let objects): return objects
    case .failure(let failure):
      throw LiveAccessError(
        Redaction.redact(text: failure.description) + "; check stateStore in \(env.settingsFile) and the credentials for it")
    }
  }

  /// The VPCs the internet gateway is attached (or attaching) to; nil when the strategy is not
  /// `temporary` (no gateway id to ask about, and `none` makes no aws call at all).
  public func gatewayAttachments() async throws(LiveAccessError) -> [String]? {
    guard settings.igwStrategy == .temporary, let id = settings.igwID else { return nil }
    let cli = AWSCLI(
      executable: aws, region: settings.region, profile: settings.profile, runner: runner, environment: environment)
    do {
      return try await cli.internetGatewayAttachments(id).filter(\.isAttached).map(\.vpcID)
    } catch {
      throw LiveAccessError("cannot read internet gateway \(id): \(error.localizedDescription)")
    }
  }
}

/// The versions of kops binaries, asked once each per run: concurrent askers of one binary wait
/// for the same `kops version --short` call, and its answer (or error) serves them all.
public actor KopsVersions {
  private var calls: [String: Task<KopsVersion, any Error>] = [:]

  public init() {}

  /// The version of the kops binary `kops`, from `ask` the first time it is wanted.
  public func version(of kops: String, ask: @escaping @Sendable () async throws -> KopsVersion) async throws -> KopsVersion {
    if let call = calls[kops] { return try await call.value }
    let call = Task { try await ask() }
    calls[kops] = call
    return try await call.value
  }
}

/// Checks environments for drift concurrently (at most ``parallelism`` at a time) and stores
/// each environment's report (DESIGN.md §6).
///
/// One environment failing (kops missing, wrong version, state store unreadable, aws refusing)
/// becomes an `error` entry and never stops the others. Writes nothing but the drift reports:
/// no revision, no lock, no run; so it also works while an apply holds the lock.
public struct DriftChecker: Sendable {
  /// An environment to check, or one whose files could not be loaded.
  public enum Target: Sendable {
    case environment(Environment)
    /// Reported as an `error` entry with `message`.
    case unloadable(name: String, message: String)

    var name: String {
      switch self {
      case .environment(let e): e.name
      case .unloadable(let n, _): n
      }
    }
  }

  /// The report and what went wrong around it (reports that could not be stored).
  public struct Outcome: Sendable {
    public var report: DriftReport
    /// Problems that do not change the report, e.g. a report that could not be stored.
    public var warnings: [String]
  }

  public var runner: any CommandRunner
  /// Who picks each environment's kops (``KopsSelection``: the operator before `kopsPath`).
  public var kops: KopsSelection
  /// The aws binary.
  public var aws: String
  /// Recorded state and report history; nil when no state database exists (every environment
  /// is then pending, and no report is stored).
  public var store: (any StateStoring)?
  /// How many environments are checked at once (at least 1).
  public var parallelism: Int
  /// `YYYY-MM-DD`, for ignore rules' `until`.
  public var today: String
  /// Variables added to every kops/aws call.
  public var environment: [String: String]
  /// One `kops version` per kops binary for the whole check, shared by its environments.
  let versions = KopsVersions()

  public init(
    runner: any CommandRunner, kops: KopsSelection, aws: String, store: (any StateStoring)?, parallelism: Int = 4,
    today: String = DriftChecker.today(), environment: [String: String] = [:]
  ) {
    self.runner = runner
    self.kops = kops
    self.aws = aws
    self.store = store
    self.parallelism = max(1, parallelism)
    self.today = today
    self.environment = environment
  }

  /// Today's date in the local time zone, as `YYYY-MM-DD`.
  public static func today(_ date: Date = Date()) -> String {
    let c = Calendar.current.dateComponents([.year, .month, .day], from: date)
    func pad(_ v: Int?, _ w: Int) -> String {
      let s = String(v ?? 0)
      return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
  }

  /// Checks every target, at most ``parallelism`` at once; the report keeps the targets' order.
  public func check(_ targets: [Target]) async -> Outcome {
    var results = [(EnvironmentDrift, [String])?](repeating: nil, count: targets.count)
    await withTaskGroup(of: (Int, EnvironmentDrift, [String]).self) { group in
      var next = 0
      func launch(_ i: Int) {
        let target = targets[i]
        group.addTask {
          let (entry, warnings) = await self.checkOne(target)
          return (i, entry, warnings)
        }
      }
      while next < min(parallelism, targets.count) {
        launch(next)
        next += 1
      }
      while let (i, entry, warnings) = await group.next() {
        // The next environment starts first: storing a report (a durable write) is then off
        // the path of the checks, which wait on kops.
        if next < targets.count {
          launch(next)
          next += 1
        }
        results[i] = (entry, warnings + store(entry))
      }
    }
    let done = results.enumerated().map { i, r in
      r ?? (DriftEvaluator.failure(name: targets[i].name, cluster: nil, message: "not checked (cancelled)"), [])
    }
    return Outcome(report: DriftReport(environments: done.map(\.0)), warnings: done.flatMap(\.1))
  }

  /// Checks one target, against its previous report (``store(_:)`` stores the new one).
  func checkOne(_ target: Target) async -> (EnvironmentDrift, [String]) {
    var warnings: [String] = []
    var previous: EnvironmentDrift? = nil
    if let store {
      do {
        if let record = try store.latestDriftReport(target.name) {
          previous = try? DriftJSON.decodeEnvironment(record.reportJSON)
        }
      } catch {
        warnings.append("\(target.name): cannot read the previous drift report (\(error.localizedDescription)); every item counts as new")
      }
    }
    let entry: EnvironmentDrift
    switch target {
    case .environment(let env): entry = await check(env, previous: previous)
    case .unloadable(let name, let message): entry = DriftEvaluator.failure(name: name, cluster: nil, message: message)
    }
    return (entry, warnings)
  }

  /// Stores an environment's report; returns the warning when it could not be stored.
  func store(_ entry: EnvironmentDrift) -> [String] {
    guard let store else { return [] }
    do {
      try store.saveDriftReport(
        environment: entry.name, status: entry.status.rawValue, reportJSON: DriftJSON.encode(entry).serialized())
      return []
    } catch {
      return ["\(entry.name): the drift report could not be stored (\(error.localizedDescription))"]
    }
  }

  /// Checks one environment (no storing).
  public func check(_ env: Environment, previous: EnvironmentDrift?) async -> EnvironmentDrift {
    let recorded: RecordedState?
    do {
      recorded = try store?.recorded(env.name)
    } catch {
      return DriftEvaluator.failure(
        name: env.name, cluster: env.settings.cluster,
        message: "cannot read the recorded state: \(error.localizedDescription)")
    }
    guard let recorded, !recorded.isEmpty else {
      return DriftEvaluator.evaluate(env, recorded: recorded, observation: nil, previous: previous, today: today)
    }
    let access = LiveAccess(
      runner: runner, kops: kops.executable(for: env.settings), aws: aws, env: env, environment: environment)
    do {
      let version = try await access.checkedVersion(sharing: versions)
      let objects = try await access.readObjects(version: version)
      let attachments = try await access.gatewayAttachments()
      let observation = LiveObservation(
        cluster: objects.cluster, instanceGroups: objects.instanceGroups, gatewayAttachments: attachments)
      return DriftEvaluator.evaluate(env, recorded: recorded, observation: observation, previous: previous, today: today)
    } catch {
      let pending = (try? PlanBuilder.plan(env, recorded: recorded)).map {
        DriftEvaluator.pending($0, recorded: recorded, env: env)
      }
      return DriftEvaluator.failure(
        name: env.name, cluster: env.settings.cluster, message: error.message, recorded: recorded, pending: pending ?? [])
    }
  }
}
