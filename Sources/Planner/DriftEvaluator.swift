import Model

/// What the live side read for one environment: the objects in the kops state store and, for
/// strategy `temporary`, the VPCs the internet gateway is attached to.
public struct LiveObservation: Sendable {
  /// The live Cluster; nil when the kops state store has none.
  public var cluster: YAMLNode?
  public var instanceGroups: [YAMLNode]
  /// The VPCs `internetGateway.id` is attached (or attaching) to; nil when not checked.
  public var gatewayAttachments: [String]?

  public init(cluster: YAMLNode?, instanceGroups: [YAMLNode], gatewayAttachments: [String]? = nil) {
    self.cluster = cluster
    self.instanceGroups = instanceGroups
    self.gatewayAttachments = gatewayAttachments
  }
}

/// Builds one environment's drift entry from what was read (pure: no kops, aws or store).
///
/// - drift: live vs RECORDED objects, after ``LiveNormalizer`` (an environment just applied
///   reports none), values redacted;
/// - pending: desired vs recorded, from ``PlanBuilder`` (changes as `{category, path}`, plus
///   the layers still owed);
/// - ignore rules: an unexpired matching rule moves a field to `ignored`; an expired one (its
///   `until` day is before `today`) is listed as expired and ignores nothing;
/// - new: a drift item (path and live value) that the previous report did not hold.
public enum DriftEvaluator {
  /// The entry of `env`.
  ///
  /// - Parameters:
  ///   - env: The desired configuration.
  ///   - recorded: The latest recorded revision; nil or empty: never applied (status pending).
  ///   - observation: What kops and aws reported; nil when they were not asked (never applied).
  ///   - previous: The environment's previous report, for `new` marking; nil when none.
  ///   - today: `YYYY-MM-DD`, for the rules' `until`.
  /// - Returns: The environment's drift entry: its status and items.
  public static func evaluate(
    _ env: Environment, recorded: RecordedState?, observation: LiveObservation?, previous: EnvironmentDrift?,
    today: String
  ) -> EnvironmentDrift {
    let settings = env.settings
    let prior = recorded.flatMap { $0.isEmpty ? nil : PriorState(serial: $0.serial, lineage: $0.lineage) }
    var out = EnvironmentDrift(name: env.name, cluster: settings.cluster, recorded: prior)
    do {
      let plan = try PlanBuilder.plan(env, recorded: recorded)
      out.pending = pending(plan, recorded: recorded, env: env)
    } catch {
      out.error = error.description
      return out
    }
    guard let recorded, !recorded.isEmpty else {
      out.notes.append(
        "nothing is recorded for \(env.name): it was never applied, so nothing can drift; "
          + "run 'hk apply \(env.name)', or adopt a running cluster with 'hk import \(env.name)'")
      return out
    }
    guard let observation else {
      out.error = "the live objects were not read; run 'hk drift \(env.name)' again"
      return out
    }
    let objects: RecordedObjects
    do {
      objects = try RecordedObjects.parse(recorded)
    } catch {
      out.error = error.description
      return out
    }
    guard let recordedCluster = objects.cluster else { return out }
    if observation.cluster == nil {
      out.notes.append(
        "cluster \(settings.cluster) is missing from \(settings.stateStore) although recorded serial \(recorded.serial) "
          + "holds it: it was deleted outside hk, or stateStore in environment.yaml changed")
    }
    let items = LiveComparison.differences(
      recordedCluster: recordedCluster, recordedIGs: objects.instanceGroups, liveCluster: observation.cluster,
      liveIGs: observation.instanceGroups)
    let filtered = applyIgnoreRules(items, rules: settings.ignore, today: today)
    out.drift = filtered.drift
    out.ignored = filtered.ignored
    out.notes += filtered.notes
    out.notes += securityFindings(out.drift)

    if settings.igwStrategy == .temporary, let id = settings.igwID, let attachments = observation.gatewayAttachments {
      let vpc = ClusterView(recordedCluster).networkID ?? env.clusterView.networkID
      out.gateway = gatewayCheck(id: id, vpc: vpc, attachments: attachments, recordedAttached: recorded.igwAttached)
      if let g = out.gateway {
        if !g.attachedElsewhere.isEmpty {
          out.notes.append(
            "internet gateway \(id) is attached to \(g.attachedElsewhere.joined(separator: ", ")), not to the cluster's VPC "
              + "\(vpc ?? "(spec.networkID unset)"); check internetGateway.id in environment.yaml")
        }
        if g.expected == .attached && g.actual == .detached {
          out.notes.append(
            "the recorded state says an interrupted apply left \(id) attached, but it is detached; "
              + "'hk apply \(env.name)' records that")
        }
      }
    }
    return markNew(out, previous: previous)
  }

  /// Access rules changed outside hk that open the cluster to the whole internet.
  static func securityFindings(_ drift: [DriftItem]) -> [String] {
    var out: [String] = []
    for item in drift {
      let what: String
      if item.path.hasPrefix("spec.kubernetesApiAccess") {
        what = "the Kubernetes API"
      } else if item.path.hasPrefix("spec.sshAccess") {
        what = "SSH to the nodes"
      } else {
        continue
      }
      let open = ["0.0.0.0/0", "::/0"].filter { cidr in
        item.live.map { $0 == .string(cidr) || $0.arrayValue?.contains(.string(cidr)) == true } ?? false
      }
      guard let cidr = open.first else { continue }
      out.append(
        "security: \(item.path) opens \(what) to the whole internet (\(cidr)), changed outside hk (kops never fills it in); "
          + "remove it with 'kops edit cluster' or bring the intent into git")
    }
    return out
  }

  /// An entry for an environment that could not be checked (its files, kops or aws failed).
  public static func failure(
    name: String, cluster: String?, message: String, recorded: RecordedState? = nil, pending: [PendingItem] = []
  ) -> EnvironmentDrift {
    EnvironmentDrift(
      name: name, cluster: cluster,
      recorded: recorded.flatMap { $0.isEmpty ? nil : PriorState(serial: $0.serial, lineage: $0.lineage) },
      pending: pending, error: message)
  }

  // MARK: Pending

  /// What `hk apply` would still do: the plan's changes (without the gateway bracket around
  /// `kops update`, which is a means, not a change) and the layers the recorded state owes.
  public static func pending(_ plan: EnvironmentPlan, recorded: RecordedState?, env: Environment) -> [PendingItem] {
    var out: [PendingItem] = []
    for c in plan.changes {
      if c.gatewayBracket { continue }
      out.append(PendingItem(category: c.category.rawValue, action: c.action.rawValue, path: c.path))
    }
    guard let recorded, !recorded.isEmpty else { return out }
    if recorded.owesUpdate {
      out.append(
        PendingItem(
          category: "layer", path: "cloud",
          note: "kops update --yes has not run since recorded serial \(recorded.serial): the cloud lags the state store"))
    }
    if recorded.owesValidation {
      out.append(
        PendingItem(
          category: "layer", path: "validate",
          note: "kops validate cluster has not passed since the cloud last changed"))
    }
    let desiredNames = Set(env.instanceGroupViews.compactMap(\.name))
    let manual = env.settings.rollingUpdate == .manual
    for ig in Set(recorded.pendingRolls).intersection(desiredNames).sorted() {
      out.append(
        PendingItem(
          category: "layer", path: "rolling-update[\(ig)]",
          note: "its nodes still run an older configuration" + (manual ? " (rollingUpdate: manual)" : "")))
    }
    return out
  }

  // MARK: Ignore rules

  /// The result of applying ignore rules to drift items.
  public struct Filtered: Sendable, Hashable {
    public var drift: [DriftItem]
    public var ignored: [IgnoredField]
    public var notes: [String]
  }

  /// Moves items matched by an unexpired rule to `ignored`; items matched only by expired rules
  /// stay in `drift` and are listed as `expired` in `ignored`. Expired rules that match nothing
  /// become notes (clean them up).
  public static func applyIgnoreRules(_ items: [DriftItem], rules: [IgnoreRule], today: String) -> Filtered {
    var drift: [DriftItem] = []
    var ignored: [IgnoredField] = []
    var usedExpired = Set<Int>()
    for item in items {
      let matching = rules.enumerated().filter { $0.element.matches(item.path) }
      if let active = matching.first(where: { !$0.element.isExpired(today: today) })?.element {
        ignored.append(
          IgnoredField(
            path: item.path, rule: active.path, reason: active.reason, until: active.until, expired: false,
            recorded: item.recorded, live: item.live))
        continue
      }
      if let (index, rule) = matching.first {
        usedExpired.insert(index)
        ignored.append(
          IgnoredField(
            path: item.path, rule: rule.path, reason: rule.reason, until: rule.until, expired: true,
            recorded: item.recorded, live: item.live))
      }
      drift.append(item)
    }
    var notes: [String] = []
    for (index, rule) in rules.enumerated() where rule.isExpired(today: today) && !usedExpired.contains(index) {
      notes.append(
        "ignore rule '\(rule.path)' expired after \(rule.until ?? "?") and ignores nothing any more; "
          + "remove it from environment.yaml or extend its 'until'")
    }
    return Filtered(drift: drift, ignored: ignored, notes: notes)
  }

  // MARK: Gateway

  /// Expected `attached` only when the recorded state says hk attached the gateway (an apply in
  /// progress or interrupted); otherwise an attachment to the cluster's VPC is a finding.
  public static func gatewayCheck(id: String, vpc: String?, attachments: [String], recordedAttached: Bool) -> GatewayCheck {
    let here: Bool
    if let vpc { here = attachments.contains(vpc) } else { here = !attachments.isEmpty }
    let elsewhere = vpc.map { v in attachments.filter { $0 != v } } ?? []
    return GatewayCheck(
      id: id, vpc: vpc, expected: recordedAttached ? .attached : .detached, actual: here ? .attached : .detached,
      attachedElsewhere: elsewhere)
  }

  // MARK: New since the previous report

  /// Marks drift items (path and live value) and a gateway finding that `previous` did not
  /// report; with no previous report everything is new.
  public static func markNew(_ entry: EnvironmentDrift, previous: EnvironmentDrift?) -> EnvironmentDrift {
    var out = entry
    let before = Set((previous?.drift ?? []).map(key))
    for i in out.drift.indices {
      out.drift[i].isNew = previous == nil || !before.contains(key(out.drift[i]))
    }
    if out.gateway?.finding != nil {
      out.gateway?.isNew = previous?.gateway?.finding == nil
    }
    return out
  }

  static func key(_ item: DriftItem) -> String {
    item.path + "\u{0}" + (item.live.map { $0.serialized() } ?? "absent")
  }
}
