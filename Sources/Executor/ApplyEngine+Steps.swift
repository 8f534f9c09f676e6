import Config
import Foundation
import Model
import Planner
import Store

enum StepResult {
  case success
  case failure(String, cancelled: Bool)
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
      base: engine.runner, store: store, fence: fence, runID: runID, stepID: step.id, kind: kind,
      environment: engine.options.environment.merging(settings.kopsVariables) { _, own in own },
      defaultTimeout: engine.options.stepTimeout)
  }

  /// Runs one argv, journaled; returns the result, or nil with a reason when the command could
  /// not be started.
  func runJournaled(
    _ argv: [String], step: Step, kind: String, environment: [String: String] = [:], timeout: Duration? = nil,
    streamTo observed: Step? = nil
  ) async -> (CommandResult?, String?) {
    guard let exe = argv.first else { return (nil, "empty command") }
    let invocation = CommandInvocation(exe, Array(argv.dropFirst()), environment: environment, timeout: timeout)
    let observer = engine.observer
    let envName = name
    do {
      let result = try await journaling(step, kind: { _ in kind }).run(invocation) { line in
        if let observed { observer.output(environment: envName, step: observed, line: line) }
      }
      return (result, nil)
    } catch {
      return (nil, error is CancellationError ? "cancelled" : error.localizedDescription)
    }
  }

  static func failureReason(_ r: CommandResult) -> String {
    let detail = KopsOutput.failureSummary(stderr: r.stderr, stdout: r.stdout) ?? ""
    return r.statusDescription + (detail.isEmpty ? "" : ": " + detail)
  }

  // MARK: Pre-flight

  /// Checks kops's version and compares the live objects with the recorded ones. Objects that
  /// already equal the desired ones (an apply interrupted after a write) are adopted and their
  /// steps skipped, so that no write runs twice.
  mutating func preflight() async -> ApplyOutcome? {
    let pre = Step(id: 0, kind: .validate, command: [])
    // A plan that only closes a gateway left attached needs no kops.
    guard plan.steps.contains(where: { $0.kind != .igwAttach && $0.kind != .igwDetach }) else { return nil }
    // kops version, then the live objects: the same adapter as drift and import, journaled.
    let access = LiveAccess(
      runner: journaling(pre, kind: { $0.arguments.first == "version" ? "preflight-version" : "preflight-read" }),
      kops: engine.kops, aws: engine.aws, env: env)
    let live: (cluster: YAMLNode?, igs: [YAMLNode])
    do {
      let version = try await access.checkedVersion()
      kopsVersion = version
      let objects = try await access.readObjects(version: version)
      live = (objects.cluster, objects.instanceGroups)
      liveCluster = objects.cluster
      liveInstanceGroups = objects.instanceGroups
    } catch {
      return finish(.refused, failed: nil, reason: error.message, next: "fix that, then run 'hk apply \(name)' again")
    }
    let recordedObjects: RecordedObjects
    do { recordedObjects = try RecordedObjects.parse(current) } catch {
      return finish(.refused, failed: nil, reason: error.description, next: "inspect the state with 'hk state show \(name)'")
    }

    guard let recordedCluster = recordedObjects.cluster else {
      // Nothing recorded: the cluster must not exist yet, unless an interrupted create wrote it.
      guard let liveCluster = live.cluster else { return nil }
      let diffs = LiveComparison.differences(
        recordedCluster: env.cluster, recordedIGs: env.instanceGroups, liveCluster: liveCluster, liveIGs: live.igs)
      if diffs.isEmpty, plan.steps.first(where: { $0.kind.writesObjects })?.kind == .clusterCreate {
        // Only an earlier apply of this environment that ran 'kops create' explains it; any
        // other cluster (another state's, or one made by hand) is adopted on purpose only.
        let interrupted = earlierRunCreatedCluster()
        guard interrupted || engine.options.adopt else {
          return finish(
            .refused, failed: nil,
            reason:
              "cluster \(settings.cluster) already exists in \(settings.stateStore) as the files describe it, but nothing is recorded for \(name) and no earlier apply of \(name) created it (another state may track it)",
            next: "adopt it with 'hk import \(name)' (or record it as it is with 'hk apply \(name) --adopt'), then plan again")
        }
        engine.observer.note(
          environment: name,
          interrupted
            ? "the cluster is already in the kops state store as desired (an earlier apply was interrupted after 'kops create'): recording it and going on"
            : "the cluster is already in the kops state store as desired: recording it (--adopt) and going on")
        recordObjects(
          cluster: env.cluster, igs: env.instanceGroups, rolls: [],
          note: interrupted ? "adopted objects written by an interrupted apply" : "adopted an existing cluster (--adopt)")
        completed += plan.steps.filter { $0.kind == .clusterCreate }
        return nil
      }
      return finish(
        .refused, failed: nil,
        reason: "cluster \(settings.cluster) already exists in \(settings.stateStore) but nothing is recorded for \(name)",
        next: "adopt it with 'hk import \(name)', then plan again")
    }
    let drift = LiveComparison.differences(
      recordedCluster: recordedCluster, recordedIGs: recordedObjects.instanceGroups, liveCluster: live.cluster, liveIGs: live.igs)
    if drift.isEmpty { return nil }
    // Differences explained by this plan's own writes (interrupted after a write): adopt them.
    var remaining = drift
    var adoptedSteps: [Step] = []
    for step in plan.steps where step.kind.writesObjects {
      guard let object = step.object else { continue }
      let prefix = object == "cluster" ? nil : "instancegroup[\(object.dropFirst("instancegroup/".count))]"
      let related = remaining.filter { d in prefix.map { d.path.hasPrefix($0) } ?? !d.path.hasPrefix("instancegroup[") }
      if related.isEmpty { continue }
      if objectMatchesDesired(object, live: live) {
        remaining.removeAll { d in related.contains(d) }
        adoptedSteps.append(step)
      }
    }
    if !remaining.isEmpty && !engine.options.allowDrift {
      let fields = remaining.prefix(12).map { d in
        "  \(d.path): recorded \(d.recorded.map { $0.serialized() } ?? "absent"), live \(d.live.map { $0.serialized() } ?? "absent")"
      }.joined(separator: "\n")
      return finish(
        .refused, failed: nil,
        reason:
          "the live objects differ from the recorded state (changed outside hk):\n\(fields)\(remaining.count > 12 ? "\n  … and \(remaining.count - 12) more" : "")",
        next: "review with 'hk drift \(name)'; bring the change into git, or apply over it with --allow-drift")
    }
    if !remaining.isEmpty {
      engine.observer.note(environment: name, "applying over \(remaining.count) drifted field(s) (--allow-drift)")
    }
    for step in adoptedSteps {
      engine.observer.note(
        environment: name,
        "step \(step.id) (\(step.object ?? "")) is already in the kops state store as desired (an earlier apply was interrupted): recording it, not writing it again"
      )
      advanceObjects(after: step)
      completed.append(step)
    }
    return nil
  }

  /// Whether one of this environment's last runs journaled a `kops create` of the cluster: that
  /// tells a crash after the create from a cluster hk never made.
  func earlierRunCreatedCluster() -> Bool {
    guard let runs = try? store.runs(name, limit: 20) else { return false }
    for run in runs where run.id != runID {
      guard let journal = try? store.journal(runID: run.id) else { continue }
      if journal.contains(where: { $0.kind == StepKind.clusterCreate.rawValue }) { return true }
    }
    return false
  }

  func objectMatchesDesired(_ object: String, live: (cluster: YAMLNode?, igs: [YAMLNode])) -> Bool {
    if object == "cluster" {
      guard let lc = live.cluster else { return false }
      return TreeDiff.diff(LiveNormalizer.stripVolatile(env.cluster), LiveNormalizer.cluster(live: lc, recorded: env.cluster)).isEmpty
    }
    let igName = String(object.dropFirst("instancegroup/".count))
    let desired = env.instanceGroups.first { InstanceGroupView($0).name == igName }
    let liveIG = live.igs.first { InstanceGroupView($0).name == igName }
    switch (desired, liveIG) {
    case (nil, nil): return true  // a delete that already happened
    case (let d?, let l?): return TreeDiff.diff(LiveNormalizer.stripVolatile(d), LiveNormalizer.instanceGroup(live: l, recorded: d)).isEmpty
    default: return false
    }
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
    switch result {
    case .success:
      engine.observer.stepFinished(environment: name, step: step, total: total, status: "done", duration: seconds, succeeded: true)
    case .failure(let reason, _):
      engine.observer.stepFinished(environment: name, step: step, total: total, status: reason, duration: seconds, succeeded: false)
    }
    return result
  }

  mutating func runStepBody(_ step: Step) async -> StepResult {
    switch step.kind {
    case .clusterCreate, .clusterReplace, .instanceGroupCreate, .instanceGroupReplace:
      guard writeManifest(for: step) else { return .failure("cannot write the manifest to \(scratch)", cancelled: false) }
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
        let upgradeRolls = plan.changes.filter { $0.category == .upgrade }.flatMap(\.rolls)
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
    let (r, err) = await runJournaled(
      substituted(step.command), step: step, kind: step.kind.rawValue, environment: environment, streamTo: step)
    guard let r else { return .failure(err ?? "could not start", cancelled: err == "cancelled") }
    if r.cancelled || Task.isCancelled { return .failure("cancelled", cancelled: true) }
    return r.succeeded ? .success : .failure(Self.failureReason(r), cancelled: false)
  }

  /// attach/detach through ``AWSCLI``, idempotently: attached to this VPC already is a
  /// success, and so is detached already; attached to another VPC is an error.
  func gatewayStep(_ step: Step, attach: Bool) async -> StepResult {
    guard let igw = settings.igwID, let vpc = env.clusterView.networkID else {
      return .failure("strategy temporary needs internetGateway.id in \(env.settingsFile) and spec.networkID", cancelled: false)
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
      let cancelled = error is CancellationError || Task.isCancelled
      return .failure(cancelled ? "cancelled" : error.localizedDescription, cancelled: cancelled)
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
    let (r, err) = await runJournaled(argv, step: step, kind: "export-kubeconfig", environment: ["KUBECONFIG": file])
    guard let r else { return .failure("cannot export a kubeconfig: \(err ?? "")", cancelled: err == "cancelled") }
    guard r.succeeded else { return .failure("kops export kubeconfig: " + Self.failureReason(r), cancelled: r.cancelled) }
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
      let (r, err) = await runJournaled(
        substituted(step.command), step: step, kind: "validate", environment: kubeconfigEnvironment, timeout: .seconds(300), streamTo: nil)
      guard let r else { return .failure(err ?? "could not start", cancelled: err == "cancelled") }
      if r.cancelled || Task.isCancelled { return .failure("cancelled", cancelled: true) }
      if let report = KopsOutput.parseValidate(r.stdout) {
        if report.healthy && r.exitCode == 0 { return .success }
        last = report.failures.prefix(5).map { "\($0.type) \($0.name): \($0.message)" }.joined(separator: "; ")
      } else {
        last = Self.failureReason(r)
      }
      if clock.now >= deadline { break }
      engine.observer.note(environment: name, "cluster not healthy yet (attempt \(attempt)): \(last)")
      do { try await Task.sleep(for: engine.options.validateInterval) } catch { return .failure("cancelled", cancelled: true) }
      if clock.now >= deadline { break }
    }
    return .failure("cluster not healthy within \(engine.options.validateTimeout): \(last)", cancelled: false)
  }

  // MARK: Manifests and layers

  func writeManifest(for step: Step) -> Bool {
    guard let fileArg = step.command.first(where: { $0.hasPrefix(Step.scratchPlaceholder + "/") }) else { return false }
    let path = scratch + fileArg.dropFirst(Step.scratchPlaceholder.count)
    guard let recorded = try? RecordedObjects.parse(current) else { return false }  // the preflight refused it
    let text: String
    switch step.kind {
    case .clusterCreate:
      // kops splits a file on "\n---\n" before decoding (util/pkg/text/text.go), so a `|` block
      // ending a document other than the last would lose its line break: a blank line before
      // each `---` keeps it (kops-contract §9).
      text = ([env.cluster] + env.instanceGroups).map { YAMLEmitter.emit($0) }.joined(separator: "\n---\n")
    case .clusterReplace:
      // Keep what kops assigned at create: replacing with the bare manifest would change every node.
      text = YAMLEmitter.emit(KopsAssignments.keep(desired: env.cluster, recorded: recorded.cluster, live: liveCluster))
    default:
      guard let ig = desiredIG(step.object) else { return false }
      let name = InstanceGroupView(ig).name
      let live = liveInstanceGroups.first { InstanceGroupView($0).name == name }
      let rec = recorded.instanceGroups.first { InstanceGroupView($0).name == name }
      text = YAMLEmitter.emit(KopsAssignments.keep(desired: ig, recorded: rec, live: live))
    }
    return FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
  }

  func desiredIG(_ object: String?) -> YAMLNode? {
    guard let object, object.hasPrefix("instancegroup/") else { return nil }
    let n = String(object.dropFirst("instancegroup/".count))
    return env.instanceGroups.first { InstanceGroupView($0).name == n }
  }

  /// Layer 1: the object a step wrote is now what the kops state store holds; its rolls are owed.
  mutating func advanceObjects(after step: Step) {
    guard let objects = try? RecordedObjects.parse(current) else {  // never recorded over as if empty: the apply stops
      storeProblem = storeProblem ?? "could not record progress (step \(step.id)): the recorded revision cannot be read"
      return
    }
    var (cluster, igs, rolls) = (objects.cluster, objects.instanceGroups, [String]())
    switch step.kind {
    case .clusterCreate:
      cluster = env.cluster
      igs = env.instanceGroups
    case .clusterReplace:
      cluster = env.cluster
      rolls = plan.changes.filter { !$0.path.hasPrefix("instancegroup[") && $0.category != .igw }.flatMap(\.rolls)
    case .instanceGroupCreate, .instanceGroupReplace:
      guard let ig = desiredIG(step.object), let n = InstanceGroupView(ig).name else { return }
      if let i = igs.firstIndex(where: { InstanceGroupView($0).name == n }) { igs[i] = ig } else { igs.append(ig) }
      rolls = plan.changes.filter { $0.path.hasPrefix("instancegroup[\(n)]") }.flatMap(\.rolls)
    case .instanceGroupDelete:
      let n = String((step.object ?? "").dropFirst("instancegroup/".count))
      igs.removeAll { InstanceGroupView($0).name == n }
    default: return
    }
    recordObjects(
      cluster: cluster ?? env.cluster, igs: igs, rolls: rolls, note: "step \(step.id): \(step.kind.rawValue) \(step.object ?? "")")
  }

  mutating func recordObjects(cluster: YAMLNode, igs: [YAMLNode], rolls: [String], note: String) {
    let deleted = Set(
      plan.steps.filter { $0.kind == .instanceGroupDelete }.compactMap { $0.object?.dropFirst("instancegroup/".count) }.map(String.init))
    // A group this plan creates starts on the final configuration (its instances launch at
    // `update --yes`, after every write): it never owes a roll, as the planner says too.
    let created = Set(
      plan.steps.filter { $0.kind == .instanceGroupCreate }.compactMap { $0.object?.dropFirst("instancegroup/".count) }.map(String.init))
    let digest = env.desiredDigest
    let commit = engine.options.gitCommit
    record(note: note) { d in
      d.clusterYAML = YAMLEmitter.emit(cluster)
      d.instanceGroupsYAML = igs.map { YAMLEmitter.emit($0) }
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
