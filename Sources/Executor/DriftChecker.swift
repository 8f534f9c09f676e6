import Config
import Foundation
import Model
import Planner
import Store

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
          previous = try DriftJSON.decodeEnvironment(record.reportJSON)
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
