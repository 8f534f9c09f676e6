import Config
import Foundation
import Model
import Planner
import Store

/// kops has the last word on rolls (DESIGN.md §5): the dry run before `update --yes` is
/// compared with the plan (a launch template or IAM change the plan did not predict is a
/// *surprise*), and kops's `NeedsUpdate` listing after it decides the rolls with the plan's.
extension Run {
  /// The instance groups this plan predicts to roll (the planner put them on its `kops update`
  /// step): its changes' rolls and the rolls the recorded state owed.
  var predictedRolls: Set<String> {
    Set(plan.steps.first { $0.kind == .kopsUpdate }?.predictedRolls ?? [])
  }

  /// Groups this plan creates (their launch templates are new, never a surprise or a roll).
  var createdGroups: Set<String> {
    Set(plan.steps.filter { $0.kind == .instanceGroupCreate }.compactMap(\.instanceGroup))
  }

  /// What the dry run shows that the plan did not predict: the groups whose launch template
  /// kops would change, and the IAM tasks, each named.
  func surprises(in report: UpdateReport) -> [String] {
    let suffix = "." + settings.cluster
    let predicted = predictedRolls
    let created = createdGroups
    var found: [String] = []
    for task in report.modified where task.type == "LaunchTemplate" {
      let group = task.name.hasSuffix(suffix) ? String(task.name.dropLast(suffix.count)) : task.name
      if !predicted.contains(group) && !created.contains(group) {
        let fields = task.fields.map(\.field).joined(separator: ", ")
        found.append(
          "the launch template of instance group \(group) (\(fields.isEmpty ? "changed" : fields)), which the plan does not roll")
      }
    }
    // IAM: only when this plan is the whole difference (an owed update also pushes the IAM
    // changes of earlier, reviewed writes).
    let planChangesIAM = plan.steps.first { $0.kind == .kopsUpdate }?.changesIAM ?? false
    if !planChangesIAM && !updateOwedAtStart {
      let iam =
        report.modified.filter { $0.type.hasPrefix("IAM") }
        + report.created.filter { $0.type == "IAMRolePolicy" && $0.name.hasPrefix("additional.") }
      for task in iam { found.append("IAM \(task.key), which the plan does not change") }
    }
    return found
  }

  /// The dry run `kops update cluster NAME --state S` (same overrides as the step, without
  /// `--yes`); nil when it agrees with the plan or surprises are allowed, else the failure.
  func checkDryRun(_ step: Step) async -> StepResult? {
    guard !plan.steps.contains(where: { $0.kind == .clusterCreate }) else { return nil }
    let argv = substituted(step.command).filter { $0 != "--yes" && $0 != "--create-kube-config=false" }
    let r: CommandResult
    do { r = try await runJournaled(argv, step: step, kind: "kops-update-dryrun") } catch { return error.result() }
    if r.cancelled || Task.isCancelled { return .cancelled }
    guard r.succeeded else { return .failure("kops update (dry run): " + Self.failureReason(r)) }
    let found = surprises(in: KopsOutput.parseUpdateDryRun(r.stdout))
    if found.isEmpty { return nil }
    let list = found.map { "  kops would change " + $0 }.joined(separator: "\n")
    if engine.options.allowSurprises {
      engine.observer.note(environment: name, "going on past what the plan did not predict (--allow-surprises):\n\(list)")
      return nil
    }
    return .failure(
      "kops update would change what the plan does not contain; nothing was applied to the cloud:\n\(list)\n"
        + "review the plan (a kops rule hk does not know?), then apply with --allow-surprises to go on")
  }

  /// After `update --yes`: asks `kops rolling-update cluster NAME --state S` (a listing) which
  /// groups need a roll, journals every group the plan did not predict (a *prediction miss*),
  /// and makes the rolls the union of kops's verdict and the prediction; with `rollingUpdate:
  /// manual` kops's verdict is what stays owed.
  mutating func askKopsForRolls(after step: Step) async {
    if let failure = await ensureKubeconfig(step), let reason = failure.message {
      engine.observer.note(environment: name, "could not ask kops which groups need a roll (\(reason)): rolling the predicted groups")
      return
    }
    let argv = k.rollingUpdate(yes: false, instanceGroups: [])
    let listing: Result<CommandResult, CommandStop>
    do {
      listing = .success(try await runJournaled(argv, step: step, kind: "rolling-update-listing", environment: kubeconfigEnvironment))
    } catch { listing = .failure(error) }
    guard case .success(let r) = listing, r.succeeded else {
      let why: String
      switch listing {
      case .success(let r): why = Self.failureReason(r)
      case .failure(let stop): why = stop.result().message ?? ""
      }
      engine.observer.note(environment: name, "could not ask kops which groups need a roll (\(why)): rolling the predicted groups")
      return
    }
    let desired = Set(env.instanceGroupViews.compactMap(\.name))
    let verdict = Set(KopsOutput.parseRollingUpdate(r.stdout).needsUpdate).intersection(desired)
    let predicted = predictedRolls
    let misses = verdict.subtracting(predicted).sorted()
    for group in misses { journalMiss(group, step: step) }
    if !misses.isEmpty {
      let them = misses.count == 1 ? "it" : "them"
      let what = settings.rollingUpdate == .manual ? "\(them) owed (rollingUpdate: manual)" : "rolling \(them) too"
      engine.observer.note(
        environment: name,
        "prediction miss: kops marks \(misses.joined(separator: ", ")) NeedsUpdate, which the plan did not predict; \(what)")
    }
    let rolls: [String]
    if settings.rollingUpdate == .manual {
      rolls = verdict.sorted()
      record(note: "step \(step.id): kops marks \(rolls.isEmpty ? "no group" : rolls.joined(separator: ", ")) NeedsUpdate") {
        $0.pendingRolls = rolls
      }
      return
    }
    rolls = verdict.union(predicted).sorted()
    if !misses.isEmpty {
      record(note: "step \(step.id): kops marks \(misses.joined(separator: ", ")) NeedsUpdate (prediction miss)") {
        $0.pendingRolls = Array(Set($0.pendingRolls).union(misses)).sorted()
      }
    }
    scheduleRolls(rolls)
  }

  /// Makes the plan's rolling-update step roll `groups` (adding the step before validate when
  /// the plan had none).
  mutating func scheduleRolls(_ groups: [String]) {
    if let i = plan.steps.firstIndex(where: { $0.kind == .rollingUpdate }) {
      plan.steps[i].command = k.rollingUpdate(yes: true, instanceGroups: groups)
      plan.steps[i].instanceGroups = groups
      return
    }
    guard !groups.isEmpty else { return }
    let id = (plan.steps.map(\.id).max() ?? 0) + 1
    let step = Step(
      id: id, kind: .rollingUpdate, command: k.rollingUpdate(yes: true, instanceGroups: groups), disruptive: true, object: nil,
      instanceGroups: groups)
    let at = plan.steps.firstIndex { $0.kind == .validate } ?? plan.steps.count
    plan.steps.insert(step, at: at)
    if !plan.steps.contains(where: { $0.kind == .validate }) {
      plan.steps.append(Step(id: id + 1, kind: .validate, command: k.validate()))
    }
  }

  /// One journal entry per prediction miss (kind `prediction-miss`; `hk state show` counts them).
  func journalMiss(_ group: String, step: Step) {
    do {
      let entry = try store.journalStepStarted(runID: runID, stepID: step.id, kind: Self.predictionMissKind, argv: ["NeedsUpdate", group])
      try store.journalStepFinished(
        entryID: entry, status: .succeeded, exitCode: 0,
        outputTail: "kops marks instance group \(group) NeedsUpdate; the plan did not predict its roll", duration: 0)
    } catch {
      engine.observer.note(environment: name, "could not journal the prediction miss of \(group): \(error.localizedDescription)")
    }
  }

  /// The journal kind of a prediction miss.
  static let predictionMissKind = "prediction-miss"
}
