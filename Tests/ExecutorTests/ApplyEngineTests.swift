import Config
import Foundation
import HKTestSupport
import Model
import Planner
import Store
import Testing

@testable import Executor

/// The apply engine, unit by unit: a real SQLite state file and the repository's `dev`
/// environment (strategy temporary, kops 1.23), its kops and aws calls answered by a
/// ``RecordingRunner`` that plays a cooperative kops (the live objects are the recorded ones).
@Suite struct ApplyEngineTests {
  /// A `dev` apply: the recorded revision, the desired environment (one instance group's
  /// machine type changed), and its plan.
  struct Fixture {
    let dir: TemporaryDirectory
    let store: SQLiteStateStore
    let recordedEnv: Environment
    var env: Environment
    let group: String

    init() throws {
      dir = try TemporaryDirectory(prefix: "hk-engine")
      store = try SQLiteStateStore(path: dir.file("hk.sqlite"))
      let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      recordedEnv = try Repository(root: root.path).load("dev")
      env = recordedEnv
      group = try #require(env.instanceGroupViews.compactMap(\.name).first { $0.hasPrefix("nodes") })
      try store.record(
        RecordedStateDraft(
          environment: env.name, clusterYAML: YAMLEmitter.emit(env.cluster),
          instanceGroupsYAML: env.instanceGroups.map { YAMLEmitter.emit($0) },
          cloudUpdated: true, pendingRolls: [], igwAttached: false, kopsVersion: env.settings.kopsVersion.description),
        expectedPrior: nil, actor: ApplyEngineTests.actor, note: "seed", planID: nil, newLineage: true)
      let i = try #require(env.instanceGroups.firstIndex { InstanceGroupView($0).name == group })
      env.instanceGroups[i].set(path: ["spec", "machineType"], .string("m6i.4xlarge"))
    }

    func plan() throws -> EnvironmentPlan {
      try PlanBuilder.plan(env, recorded: try store.recorded(env.name))
    }

    /// What kops prints for `get cluster` and `get instancegroups`: the recorded objects.
    func live(_ arguments: [String]) -> String {
      arguments.starts(with: ["get", "cluster"])
        ? YAMLEmitter.emit(recordedEnv.cluster)
        : recordedEnv.instanceGroups.map { YAMLEmitter.emit($0) }.joined(separator: "\n---\n")
    }
  }

  static let actor = StoreActor(user: "tester", host: "unit", pid: 1, command: "hk apply dev")

  /// A cooperative kops and aws; `override` answers first (nil: the default answer).
  static func runner(
    _ f: Fixture, manifests: Manifests? = nil, override: (@Sendable (CommandInvocation) -> CommandResult?)? = nil
  ) -> RecordingRunner {
    let version = f.env.settings.kopsVersion.description
    let cluster = f.live(["get", "cluster"])
    let groups = f.live(["get", "instancegroups"])
    return RecordingRunner { invocation in
      if let answer = override?(invocation) { return answer }
      let a = invocation.arguments
      if let manifests, a.first == "replace" || a.first == "create", let file = a.first(where: { $0.hasSuffix(".yaml") }) {
        manifests.add(file: (file as NSString).lastPathComponent, text: (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
      }
      switch a.first {
      case "version": return CommandResult(exitCode: 0, stdout: version + "\n")
      case "get": return CommandResult(exitCode: 0, stdout: a.dropFirst().first == "cluster" ? cluster : groups)
      case "validate": return CommandResult(exitCode: 0, stdout: "{}\n")
      default: return CommandResult(exitCode: 0)
      }
    }
  }

  /// Each invocation as a short label: `kops update --yes`, `aws attach-internet-gateway`, ….
  static func labels(_ runner: RecordingRunner) async -> [String] {
    await runner.invocations.map { i in
      let a = i.arguments
      if i.executable == "aws" {
        return "aws " + (a.first { $0.hasSuffix("-internet-gateway") || $0.hasSuffix("-internet-gateways") } ?? "?")
      }
      switch a.first ?? "" {
      case "get": return "kops get " + (a.dropFirst().first ?? "")
      case "replace", "create": return "kops \(a[0]) " + ((a.first { $0.hasSuffix(".yaml") } ?? "") as NSString).lastPathComponent
      case "update": return a.contains("--yes") ? "kops update --yes" : "kops update (dry run)"
      case "rolling-update":
        guard a.contains("--yes") else { return "kops rolling-update (listing)" }
        let groups = a.firstIndex(of: "--instance-group").map { a[$0 + 1] } ?? "all"
        return "kops rolling-update --yes " + groups
      default: return "kops " + (a.first ?? "")
      }
    }
  }

  static func engine(_ f: Fixture, _ runner: RecordingRunner, observer: StepLog = StepLog()) -> ApplyEngine {
    ApplyEngine(
      store: f.store, runner: runner, kops: "kops", aws: "aws", actor: actor,
      options: ApplyOptions(validateTimeout: .seconds(2), validateInterval: .milliseconds(10)), observer: observer)
  }

  @Test func stepsRunInPlanOrderInsideTheGatewayBracket() async throws {
    let f = try Fixture()
    let plan = try f.plan()
    #expect(plan.steps.map(\.kind) == [.instanceGroupReplace, .igwAttach, .kopsUpdate, .igwDetach, .rollingUpdate, .validate])
    #expect(plan.steps[0].object == .instanceGroup(f.group))
    let manifests = Manifests()
    let runner = Self.runner(f, manifests: manifests)
    let outcome = await Self.engine(f, runner).apply(plan, env: f.env, planID: nil)
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    #expect(
      await Self.labels(runner) == [
        "kops version", "kops get cluster", "kops get instancegroups", "kops replace instancegroup-\(f.group).yaml",
        "aws attach-internet-gateway", "kops update (dry run)", "kops update --yes", "aws detach-internet-gateway",
        "kops export", "kops rolling-update (listing)", "kops rolling-update --yes \(f.group)", "kops validate",
      ])
    // The manifest written is the step's: the desired group, not the recorded one.
    let written = try #require(manifests.texts["instancegroup-\(f.group).yaml"])
    #expect(written.contains("m6i.4xlarge") && written.contains("name: \(f.group)"), "\(written)")
    let state = try #require(try f.store.recorded(f.env.name))
    #expect(!state.igwAttached && state.cloudUpdated && state.validated && state.pendingRolls.isEmpty)
    #expect(state.instanceGroupsYAML.contains { $0.contains("m6i.4xlarge") })
  }

  @Test func aFailedStepStopsTheRunAndClosesTheBracket() async throws {
    let f = try Fixture()
    let runner = Self.runner(f) { i in
      i.arguments.first == "update" && i.arguments.contains("--yes") ? CommandResult(exitCode: 1, stderr: "Error: quota exceeded\n") : nil
    }
    let log = StepLog()
    let outcome = await Self.engine(f, runner, observer: log).apply(try f.plan(), env: f.env, planID: nil)
    #expect(outcome.status == .failed)
    #expect(outcome.failedStep?.kind == .kopsUpdate)
    #expect(outcome.reason.contains("quota exceeded") && outcome.reason.contains("was detached"), "\(outcome.reason)")
    #expect(outcome.notRun.map(\.kind) == [.rollingUpdate, .validate])
    let labels = await Self.labels(runner)
    #expect(labels.suffix(2) == ["kops update --yes", "aws detach-internet-gateway"], "\(labels)")
    #expect(!labels.contains { $0.hasPrefix("kops rolling-update") || $0 == "kops validate" })
    #expect(log.finished.last?.succeeded == false)
    let state = try #require(try f.store.recorded(f.env.name))
    #expect(!state.igwAttached && !state.cloudUpdated && state.pendingRolls == [f.group])
  }

  @Test func cancellationInterruptsTheRunAndStillDetachesTheGateway() async throws {
    let f = try Fixture()
    let runner = Self.runner(f) { i in
      guard i.arguments.first == "update", i.arguments.contains("--yes") else { return nil }
      withUnsafeCurrentTask { $0?.cancel() }  // SIGINT while kops update runs
      return CommandResult(exitCode: 0)
    }
    let log = StepLog()
    let engine = Self.engine(f, runner, observer: log)
    let plan = try f.plan()
    // The apply runs in a task of its own: cancelling it is the user's Ctrl-C, and the test's
    // own task (which Swift Testing would report as a cancelled test) is left alone.
    let outcome = await Task { await engine.apply(plan, env: f.env, planID: nil) }.value
    #expect(outcome.status == .interrupted, "\(outcome.reason)")
    #expect(outcome.failedStep?.kind == .kopsUpdate)
    #expect(outcome.reason.hasPrefix("interrupted during step 3 (kops-update)"), "\(outcome.reason)")
    #expect(log.finished.last.map { ($0.status, $0.succeeded) } ?? ("", true) == ("cancelled", false))
    let labels = await Self.labels(runner)
    #expect(labels.last == "aws detach-internet-gateway", "\(labels)")
    #expect(!labels.contains { $0.hasPrefix("kops rolling-update") })
    #expect(try f.store.recorded(f.env.name)?.igwAttached == false)
  }

  @Test func theRollsAreThePlansPrediction() async throws {
    let f = try Fixture()
    var plan = try f.plan()
    let update = try #require(plan.steps.firstIndex { $0.kind == .kopsUpdate })
    #expect(plan.steps[update].predictedRolls == [f.group])
    // The engine rolls what the planner put on the step (kops marks nothing NeedsUpdate here).
    let other = try #require(f.env.instanceGroupViews.compactMap(\.name).first { $0 != f.group })
    plan.steps[update].predictedRolls = [other]
    let runner = Self.runner(f)
    let outcome = await Self.engine(f, runner).apply(plan, env: f.env, planID: nil)
    #expect(outcome.status == .succeeded, "\(outcome.reason)")
    let rolls = await Self.labels(runner).filter { $0.hasPrefix("kops rolling-update --yes") }
    #expect(rolls == ["kops rolling-update --yes \(other)"])
  }

  @Test func aWriteRecordsTheRollsThePlannerPutOnItsStep() async throws {
    let f = try Fixture()
    var plan = try f.plan()
    #expect(plan.steps[0].rolls == [f.group])
    plan.steps[0].rolls = []
    // Stop right after the write: what it left owed is what the step said.
    let runner = Self.runner(f) { i in i.arguments.first == "aws" || i.executable == "aws" ? CommandResult(exitCode: 255) : nil }
    let outcome = await Self.engine(f, runner).apply(plan, env: f.env, planID: nil)
    #expect(outcome.status == .failed && outcome.failedStep?.kind == .igwAttach)
    let state = try #require(try f.store.recorded(f.env.name))
    #expect(state.pendingRolls.isEmpty && !state.cloudUpdated)
  }
}

/// The manifests kops was given, by file name.
final class Manifests: @unchecked Sendable {
  private let lock = NSLock()
  private var byName: [String: String] = [:]
  func add(file: String, text: String) { lock.withLock { byName[file] = text } }
  var texts: [String: String] { lock.withLock { byName } }
}

/// What the engine told its observer about each finished step.
final class StepLog: ApplyObserver, @unchecked Sendable {
  struct Finished { var kind: StepKind, status: String, succeeded: Bool }
  private let lock = NSLock()
  private var entries: [Finished] = []
  var finished: [Finished] { lock.withLock { entries } }
  func stepStarted(environment: String, step: Step, total: Int) {}
  func output(environment: String, step: Step, line: OutputLine) {}
  func stepFinished(environment: String, step: Step, total: Int, status: String, duration: Double, succeeded: Bool) {
    lock.withLock { entries.append(Finished(kind: step.kind, status: status, succeeded: succeeded)) }
  }
  func note(environment: String, _ message: String) {}
}
