import Config
import Foundation
import Model
import Planner
import Store

/// How a step ended.
enum StepResult: Equatable {
  case success
  /// The step failed (why): the run stops, closing the gateway bracket.
  case failure(String)
  /// The apply was cancelled (SIGINT/SIGTERM) while the step ran: the run stops as interrupted.
  /// The text is what the step's line shows (``cancelled``'s is "cancelled").
  case interrupted(String)

  static let cancelled = StepResult.interrupted("cancelled")

  /// What the step's line shows when it did not succeed.
  var message: String? {
    switch self {
    case .success: nil
    case .failure(let why), .interrupted(let why): why
    }
  }
}

/// Why one command of a step did not run to an exit status.
enum CommandStop: Error {
  /// It could not be started (why).
  case notStarted(String)
  /// The apply was cancelled before or while it started.
  case cancelled

  /// The step's result when a command it needed stopped so (`prefix` names what was tried).
  func result(_ prefix: String = "") -> StepResult {
    switch self {
    case .notStarted(let why): .failure(prefix + why)
    case .cancelled: prefix.isEmpty ? .cancelled : .interrupted(prefix + "cancelled")
    }
  }
}

extension Run {
  // MARK: Running commands

  /// Runs one argv with journal entries before and after; returns the result, or nil with a
  /// reason when the command could not be started.
  /// A runner that journals what it runs under `step` (and `kind` names each entry). Every call
  /// gets the environment's AWS profile and region (kops reads them from its environment; the
  /// aws steps name the same ones with `--profile`/`--region`).
  func journaling(_ step: Step, kind: @escaping @Sendable (CommandInvocation) -> String) -> JournalingRunner {
    JournalingRunner(
      base: engine.runner, store: store, lease: lease, runID: runID, stepID: step.id, kind: kind,
      environment: engine.options.environment.merging(settings.kopsVariables) { _, own in own },
      defaultTimeout: engine.options.stepTimeout)
  }

  /// Runs one argv, journaled.
  /// - Throws: ``CommandStop`` when the command could not be started or the apply was cancelled.
  func runJournaled(
    _ argv: [String], step: Step, kind: String, environment: [String: String] = [:], timeout: Duration? = nil,
    streamTo observed: Step? = nil
  ) async throws(CommandStop) -> CommandResult {
    guard let exe = argv.first else { throw .notStarted("empty command") }
    let invocation = CommandInvocation(exe, Array(argv.dropFirst()), environment: environment, timeout: timeout)
    let observer = engine.observer
    let envName = name
    do {
      return try await journaling(step, kind: { _ in kind }).run(invocation) { line in
        if let observed { observer.output(environment: envName, step: observed, line: line) }
      }
    } catch is CancellationError {
      throw .cancelled
    } catch {
      throw .notStarted(error.localizedDescription)
    }
  }

  static func failureReason(_ r: CommandResult) -> String {
    let detail = KopsOutput.failureSummary(stderr: r.stderr, stdout: r.stdout) ?? ""
    return r.statusDescription + (detail.isEmpty ? "" : ": " + detail)
  }

  // MARK: Steps

  mutating func runStep(_ step: Step) async -> StepResult {
    let total = plan.steps.count
    engine.observer.stepStarted(environment: name, step: step, total: total)
    let clock = ContinuousClock()
    let start = clock.now
    let result = await runStepBody(step)
    let d = clock.now - start
    let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    engine.observer.stepFinished(
      environment: name, step: step, total: total, status: result.message ?? "done", duration: seconds, succeeded: result == .success)
    return result
  }

  mutating func runStepBody(_ step: Step) async -> StepResult {
    switch step.kind {
    case .clusterCreate, .clusterReplace, .instanceGroupCreate, .instanceGroupReplace:
      guard writeManifest(for: step) else { return .failure("cannot write the manifest to \(scratch)") }
      let r = await plainStep(step)
      if case .success = r { advanceObjects(after: step) }
      return r
    case .instanceGroupDelete:
      let r = await plainStep(step)
      if case .success = r { advanceObjects(after: step) }
      return r
    case .igwAttach:
      // Record the intent first: a crash after the attach must leave "attached" recorded.
      record(note: "step \(step.id): attaching \(settings.igwID ?? "the internet gateway")") { $0.igwAttached = true }
      return await gatewayStep(step, attach: true)
    case .igwDetach:
      let r = await gatewayStep(step, attach: false)
      if case .success = r {
        record(note: "step \(step.id): internet gateway detached") { $0.igwAttached = false }
        if rollsToAskAfterDetach {
          rollsToAskAfterDetach = false
          await askKopsForRolls(after: step)
        }
      }
      return r
    case .kopsUpdate:
      // kops has the last word: its dry run must not change what the plan does not contain.
      if let failure = await checkDryRun(step) { return failure }
      let r = await plainStep(step)
      if case .success = r {
        // The cloud changed: it is validated again before the apply is done (layer 4).
        let by = kopsVersion?.description ?? settings.kopsVersion.description
        let upgradeRolls = step.rolls
        record(note: "step \(step.id): kops update --yes applied (kops \(by))") {
          $0.cloudUpdated = true
          $0.validated = false
          $0.updatedByKops = by
          // a kops upgrade's rolls are owed from now on (no object write recorded them)
          $0.pendingRolls = Array(Set($0.pendingRolls).union(upgradeRolls)).sorted()
        }
        if !plan.steps.contains(where: { $0.kind == .clusterCreate }) {
          // Outside the gateway bracket when there is one: asked right after the detach.
          if plan.steps.contains(where: { $0.kind == .igwDetach && $0.id > step.id }) {
            rollsToAskAfterDetach = true
          } else {
            await askKopsForRolls(after: step)
          }
        }
      }
      return r
    case .rollingUpdate:
      if let failure = await ensureKubeconfig(step) { return failure }
      let r = await plainStep(step, environment: kubeconfigEnvironment)
      if case .success = r {
        let rolled = Set(step.instanceGroups)
        record(note: "step \(step.id): rolled \(step.instanceGroups.joined(separator: ", "))") {
          $0.pendingRolls = $0.pendingRolls.filter { !rolled.contains($0) }
          $0.validated = false  // new nodes: validated again before the apply is done
        }
      }
      return r
    case .validate:
      if let failure = await ensureKubeconfig(step) { return failure }
      let r = await validate(step)
      if case .success = r, current?.validated == false {
        record(note: "step \(step.id): kops validate cluster passed") { $0.validated = true }
      }
      return r
    }
  }

  /// The argv to run for a plan's command: `kops` and `aws` (as plans name them) resolved to
  /// this machine's executables, `<scratch>/…` to the run's scratch directory.
  func substituted(_ argv: [String]) -> [String] {
    var out = argv.map { $0.hasPrefix(Step.scratchPlaceholder + "/") ? scratch + $0.dropFirst(Step.scratchPlaceholder.count) : $0 }
    if let exe = out.first {
      if exe == "kops" {
        out[0] = engine.kops
      } else if exe == "aws" {
        out[0] = engine.aws
      }
    }
    return out
  }

  func plainStep(_ step: Step, environment: [String: String] = [:]) async -> StepResult {
    let r: CommandResult
    do {
      r = try await runJournaled(substituted(step.command), step: step, kind: step.kind.rawValue, environment: environment, streamTo: step)
    } catch { return error.result() }
    if r.cancelled || Task.isCancelled { return .cancelled }
    return r.succeeded ? .success : .failure(Self.failureReason(r))
  }

  /// attach/detach through ``AWSCLI``, idempotently: attached to this VPC already is a
  /// success, and so is detached already; attached to another VPC is an error.
  func gatewayStep(_ step: Step, attach: Bool) async -> StepResult {
    guard let igw = settings.igwID, let vpc = env.clusterView.networkID else {
      return .failure("strategy temporary needs internetGateway.id in \(env.settingsFile) and spec.networkID")
    }
    let kind = step.kind.rawValue
    let cli = AWSCLI(
      executable: engine.aws, region: settings.region, profile: settings.profile,
      runner: journaling(step, kind: { $0.arguments.contains("describe-internet-gateways") ? "igw-describe" : kind }),
      timeout: engine.options.stepTimeout)
    do {
      if attach {
        try await cli.attachInternetGateway(igw, vpc: vpc)
      } else {
        try await cli.detachInternetGateway(igw, vpc: vpc)
      }
      return .success
    } catch {
      return error is CancellationError || Task.isCancelled ? .cancelled : .failure(error.localizedDescription)
    }
  }

  /// After a failure or interruption between attach and detach: detach, not cancellable.
  mutating func closeGatewayBracket() async -> String? {
    guard settings.igwStrategy == .temporary, current?.igwAttached == true, let igw = settings.igwID,
      let vpc = env.clusterView.networkID
    else { return nil }
    let detach = Step(
      id: plan.steps.count + 1, kind: .igwDetach,
      command: AWSArgv(aws: engine.aws, region: settings.region, profile: settings.profile).detach(igw: igw, vpc: vpc))
    let run = self
    // A detached task does not inherit the cancellation that stopped the apply.
    let result = await Task.detached { @Sendable in await run.gatewayStep(detach, attach: false) }.value
    if case .success = result {
      record(note: "internet gateway detached after the apply stopped") { $0.igwAttached = false }
      // The plan's own detach has now happened: the account must not list it as not run.
      if let planned = plan.steps.first(where: { $0.kind == .igwDetach }), !completed.contains(where: { $0.id == planned.id }) {
        completed.append(planned)
      }
      return "The internet gateway \(igw) was detached."
    }
    return
      "The internet gateway \(igw) may still be attached: detach it ('\(PlanRenderer.shell(detach.command))') or run 'hk apply \(name)', which detaches it first."
  }

  // MARK: kubeconfig (kops ≤ 1.30)

  var needsKubeconfig: Bool { KopsCapabilities(kopsVersion ?? settings.kopsVersion).needsKubeconfig }
  var kubeconfigEnvironment: [String: String] { kubeconfig.map { ["KUBECONFIG": $0] } ?? [:] }

  /// Exports a short-lived admin credential into the scratch directory (never the user's
  /// kubeconfig) for rolling-update and validate.
  mutating func ensureKubeconfig(_ step: Step) async -> StepResult? {
    guard needsKubeconfig, kubeconfig == nil else { return nil }
    let file = scratch + "/kubeconfig"
    let argv = k.exportKubeconfig(file: file, admin: engine.options.kubeconfigAdminTTL)
    let r: CommandResult
    do { r = try await runJournaled(argv, step: step, kind: "export-kubeconfig", environment: ["KUBECONFIG": file]) } catch {
      return error.result("cannot export a kubeconfig: ")
    }
    guard r.succeeded else {
      let why = "kops export kubeconfig: " + Self.failureReason(r)
      return r.cancelled ? .interrupted(why) : .failure(why)
    }
    kubeconfig = file
    return nil
  }

  /// Deletes the admin kubeconfig as soon as no later step of the plan needs it.
  mutating func dropKubeconfigIfDone(after step: Step) {
    guard let file = kubeconfig else { return }
    let later = plan.steps.drop { $0.id != step.id }.dropFirst()
    if later.contains(where: { $0.kind == .rollingUpdate || $0.kind == .validate }) { return }
    try? FileManager.default.removeItem(atPath: file)
    kubeconfig = nil
  }

  // MARK: validate

  mutating func validate(_ step: Step) async -> StepResult {
    let clock = ContinuousClock()
    let deadline = clock.now + engine.options.validateTimeout
    var last = ""
    var attempt = 0
    while true {
      attempt += 1
      let r: CommandResult
      do {
        r = try await runJournaled(
          substituted(step.command), step: step, kind: "validate", environment: kubeconfigEnvironment, timeout: .seconds(300),
          streamTo: nil)
      } catch { return error.result() }
      if r.cancelled || Task.isCancelled { return .cancelled }
      if let report = KopsOutput.parseValidate(r.stdout) {
        if report.healthy && r.exitCode == 0 { return .success }
        last = report.failures.prefix(5).map { "\($0.type) \($0.name): \($0.message)" }.joined(separator: "; ")
      } else {
        last = Self.failureReason(r)
      }
      if clock.now >= deadline { break }
      engine.observer.note(environment: name, "cluster not healthy yet (attempt \(attempt)): \(last)")
      do { try await Task.sleep(for: engine.options.validateInterval) } catch { return .cancelled }
      if clock.now >= deadline { break }
    }
    return .failure("cluster not healthy within \(engine.options.validateTimeout): \(last)")
  }

  // MARK: Manifests and layers

  /// Writes the manifest of an object step to the scratch directory: the step's desired
  /// documents, with what kops assigned kept on a replace.
  func writeManifest(for step: Step) -> Bool {
    guard let fileArg = step.command.first(where: { $0.hasPrefix(Step.scratchPlaceholder + "/") }) else { return false }
    let path = scratch + fileArg.dropFirst(Step.scratchPlaceholder.count)
    guard let desired = step.manifest.first else { return false }
    let text: String
    switch (step.kind, step.object) {
    case (.clusterCreate, _):
      // kops splits a file on "\n---\n" before decoding (util/pkg/text/text.go), so a `|` block
      // ending a document other than the last would lose its line break: a blank line before
      // each `---` keeps it (kops-contract §9).
      text = step.manifest.map { YAMLEmitter.emit($0) }.joined(separator: "\n---\n")
    case (_, .cluster?):
      // Keep what kops assigned at create: replacing with the bare manifest would change every node.
      text = YAMLEmitter.emit(KopsAssignments.keep(desired: desired, recorded: step.recordedObject, live: liveCluster))
    case (_, .instanceGroup(let name)?):
      let live = liveInstanceGroups.first { InstanceGroupView($0).name == name }
      text = YAMLEmitter.emit(KopsAssignments.keep(desired: desired, recorded: step.recordedObject, live: live))
    default:
      return false
    }
    return FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
  }

  /// Layer 1: the object a step wrote is now what the kops state store holds; the rolls the
  /// planner put on the step are owed.
  mutating func advanceObjects(after step: Step) {
    var objects = recordedObjects
    switch (step.kind, step.object) {
    case (.clusterCreate, _):
      objects = RecordedObjects(cluster: step.manifest.first, instanceGroups: Array(step.manifest.dropFirst()))
    case (.clusterReplace, _):
      objects.cluster = step.manifest.first ?? objects.cluster
    case (.instanceGroupCreate, .instanceGroup(let n)?), (.instanceGroupReplace, .instanceGroup(let n)?):
      guard let ig = step.manifest.first else { return }
      if let i = objects.instanceGroups.firstIndex(where: { InstanceGroupView($0).name == n }) {
        objects.instanceGroups[i] = ig
      } else {
        objects.instanceGroups.append(ig)
      }
    case (.instanceGroupDelete, .instanceGroup(let n)?):
      objects.instanceGroups.removeAll { InstanceGroupView($0).name == n }
    default: return
    }
    recordObjects(objects, rolls: step.rolls, note: "step \(step.id): \(step.kind.rawValue) \(step.object?.stepObject ?? "")")
  }

  /// Records `objects` as what the kops state store holds (layer 1), `rolls` owed.
  mutating func recordObjects(_ objects: RecordedObjects, rolls: [String], note: String) {
    let deleted = Set(plan.steps.filter { $0.kind == .instanceGroupDelete }.compactMap(\.instanceGroup))
    // A group this plan creates starts on the final configuration (its instances launch at
    // `update --yes`, after every write): it never owes a roll, as the planner says too.
    let created = Set(plan.steps.filter { $0.kind == .instanceGroupCreate }.compactMap(\.instanceGroup))
    let digest = env.desiredDigest
    let commit = engine.options.gitCommit
    recordedObjects = objects
    record(note: note) { d in
      d.clusterYAML = objects.cluster.map { YAMLEmitter.emit($0) } ?? ""
      d.instanceGroupsYAML = objects.instanceGroups.map { YAMLEmitter.emit($0) }
      d.cloudUpdated = false
      d.validated = false
      d.pendingRolls = Array(Set(d.pendingRolls).union(rolls).subtracting(deleted).subtracting(created)).sorted()
      d.desiredDigest = digest
      d.gitCommit = commit
    }
  }

  /// Records progress: the first write of a run is a new revision (serial + 1); later ones
  /// amend it, so one apply is one serial however many layers its steps advance.
  mutating func record(note: String, _ change: (inout RecordedStateDraft) -> Void) {
    var draft: RecordedStateDraft
    if let current {
      draft = RecordedStateDraft(current)
    } else {
      draft = RecordedStateDraft(
        environment: name, clusterYAML: "", instanceGroupsYAML: [], cloudUpdated: false, pendingRolls: [], igwAttached: false,
        kopsVersion: nil, desiredDigest: nil)
    }
    change(&draft)
    draft.kopsVersion = kopsVersion?.description ?? draft.kopsVersion
    // Every write records the settings it was made with (the plan's `settings` category).
    draft.settings = settings.recorded
    let prior = current.map { PriorState(serial: $0.serial, lineage: $0.lineage) }
    do {
      if let prior, wroteRevision {
        current = try store.amend(draft, at: prior, actor: engine.actor, note: note, fence: fence)
      } else {
        current = try store.record(
          draft, expectedPrior: prior, actor: engine.actor, note: note, planID: planID, newLineage: false, fence: fence)
        wroteRevision = true
      }
    } catch {
      engine.observer.note(environment: name, "could not record progress (\(note)): \(error.localizedDescription)")
      if storeProblem == nil { storeProblem = "could not record progress (\(note)): \(error.localizedDescription)" }
    }
  }
}
