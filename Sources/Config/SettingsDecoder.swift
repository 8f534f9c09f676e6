import Model

/// Decodes `environment.yaml` (DESIGN.md §2) with a positioned diagnostic for every problem.
enum SettingsDecoder {
  static let topKeys: Set<String> = [
    "cluster", "stateStore", "kopsVersion", "kopsPath", "base", "aws", "internetGateway", "rollingUpdate", "ignore",
    "egress",
  ]
  /// ``topKeys`` for the check of every key of every environment's settings (no SipHash).
  static let topKeyTable = KeyTable(keys: Array(topKeys))

  static func decode(_ root: YAMLNode, file: String) throws(DiagnosticError) -> EnvironmentSettings {
    var problems: [Diagnostic] = []
    guard let pairs = root.pairs else {
      throw DiagnosticError(Diagnostic(.error, "environment.yaml must be a mapping of settings", at: root.mark, rule: "settings-shape"))
    }
    var marks = [String: Mark](minimumCapacity: pairs.count)
    for p in pairs {
      marks[p.key] = p.keyMark
      if topKeyTable.value(p.key) == nil {
        let hint = closest(p.key, in: topKeys).map { "; did you mean '\($0)'?" } ?? ""
        problems.append(
          Diagnostic(.error, "unknown key '\(p.key)' in environment.yaml\(hint)", at: p.keyMark, rule: "settings-unknown-key"))
      }
    }

    func string(_ node: YAMLNode?, _ key: String, required: Bool, in parent: YAMLNode) -> String? {
      guard let node else {
        if required {
          problems.append(Diagnostic(.error, "missing required key '\(key)'", at: parent.mark, rule: "settings-missing"))
        }
        return nil
      }
      guard let s = node.scalar, !node.isNull else {
        problems.append(Diagnostic(.error, "'\(key)' must be a string", at: node.mark, rule: "settings-type"))
        return nil
      }
      if s.text.isEmpty && required {
        problems.append(Diagnostic(.error, "'\(key)' must not be empty", at: node.mark, rule: "settings-type"))
        return nil
      }
      return s.text
    }

    let cluster = string(root["cluster"], "cluster", required: true, in: root) ?? ""
    let stateStore = string(root["stateStore"], "stateStore", required: true, in: root) ?? ""
    var kopsVersion = KopsVersion(1, 28)
    if let v = string(root["kopsVersion"], "kopsVersion", required: true, in: root) {
      if let parsed = KopsVersion(v) {
        kopsVersion = parsed
      } else {
        problems.append(
          Diagnostic(
            .error, "kopsVersion '\(v)' is not a version; write it as in 'kops version --short', e.g. 1.28.4",
            at: root["kopsVersion"]?.mark, rule: "settings-type"))
      }
    }
    let kopsPath = string(root["kopsPath"], "kopsPath", required: false, in: root)
    let base = string(root["base"], "base", required: false, in: root)

    var region = ""
    var profile: String? = nil
    if let aws = root["aws"] {
      if let ap = aws.pairs {
        for p in ap where p.key != "region" && p.key != "profile" {
          problems.append(
            Diagnostic(.error, "unknown key 'aws.\(p.key)'; aws takes region and profile", at: p.keyMark, rule: "settings-unknown-key"))
        }
        region = string(aws["region"], "aws.region", required: true, in: aws) ?? ""
        profile = string(aws["profile"], "aws.profile", required: false, in: aws)
      } else {
        problems.append(Diagnostic(.error, "'aws' must be a mapping: {region: …, profile: …}", at: aws.mark, rule: "settings-type"))
      }
    } else {
      problems.append(Diagnostic(.error, "missing required key 'aws' (aws: {region: …})", at: root.mark, rule: "settings-missing"))
    }

    var strategy = IGWStrategy.none
    var igwID: String? = nil
    if let igw = root["internetGateway"] {
      if let ip = igw.pairs {
        for p in ip where p.key != "strategy" && p.key != "id" {
          problems.append(
            Diagnostic(
              .error, "unknown key 'internetGateway.\(p.key)'; it takes strategy and id", at: p.keyMark, rule: "settings-unknown-key"))
        }
        if let s = string(igw["strategy"], "internetGateway.strategy", required: true, in: igw) {
          if let parsed = IGWStrategy(rawValue: s) {
            strategy = parsed
          } else {
            problems.append(
              Diagnostic(
                .error, "internetGateway.strategy '\(s)' is not one of temporary, external-egress, lifecycle-ignore, none",
                at: igw["strategy"]?.mark, rule: "settings-type"))
          }
        }
        igwID = string(igw["id"], "internetGateway.id", required: false, in: igw)
      } else {
        problems.append(
          Diagnostic(.error, "'internetGateway' must be a mapping: {strategy: …, id: …}", at: igw.mark, rule: "settings-type"))
      }
    } else {
      problems.append(
        Diagnostic(
          .error, "missing required key 'internetGateway' (strategy: temporary | external-egress | lifecycle-ignore | none)",
          at: root.mark, rule: "settings-missing"))
    }

    var rolling = RollingUpdateMode.auto
    if let r = string(root["rollingUpdate"], "rollingUpdate", required: false, in: root) {
      if let parsed = RollingUpdateMode(rawValue: r) {
        rolling = parsed
      } else {
        problems.append(
          Diagnostic(.error, "rollingUpdate '\(r)' is not 'auto' or 'manual'", at: root["rollingUpdate"]?.mark, rule: "settings-type"))
      }
    }

    var ignore: [IgnoreRule] = []
    if let ig = root["ignore"], !ig.isNull {
      if let items = ig.items {
        for item in items {
          guard let ip = item.pairs else {
            problems.append(Diagnostic(.error, "each ignore rule is a mapping {path, reason, until}", at: item.mark, rule: "settings-type"))
            continue
          }
          for p in ip where !["path", "reason", "until"].contains(p.key) {
            problems.append(
              Diagnostic(
                .error, "unknown key '\(p.key)' in an ignore rule; it takes path, reason, until", at: p.keyMark,
                rule: "settings-unknown-key"))
          }
          let path = string(item["path"], "path", required: true, in: item)
          let reason = string(item["reason"], "reason", required: true, in: item)
          var until: String? = nil
          if let u = item["until"] {
            if let t = u.text, isDate(t) {
              until = t
            } else {
              problems.append(Diagnostic(.error, "'until' must be a date YYYY-MM-DD", at: u.mark, rule: "settings-type"))
            }
          }
          if let path, let reason {
            if reason.trimmingSpaces().isEmpty {
              problems.append(Diagnostic(.error, "an ignore rule needs a reason", at: item.mark, rule: "settings-missing"))
            } else {
              ignore.append(IgnoreRule(path: path, reason: reason, until: until, mark: item.mark))
            }
          }
        }
      } else {
        problems.append(Diagnostic(.error, "'ignore' must be a list of rules", at: ig.mark, rule: "settings-type"))
      }
    }

    // egress: {withoutProxy: "why no spec.egressProxy is needed"}
    var egressWithoutProxy: String? = nil
    if let egress = root["egress"] {
      if let ep = egress.pairs {
        for p in ep where p.key != "withoutProxy" {
          problems.append(
            Diagnostic(
              .error, "unknown key 'egress.\(p.key)'; egress takes withoutProxy (the reason the cluster needs no egress proxy)",
              at: p.keyMark, rule: "settings-unknown-key"))
        }
        if let reason = string(egress["withoutProxy"], "egress.withoutProxy", required: true, in: egress) {
          if reason.trimmingSpaces().isEmpty {
            problems.append(
              Diagnostic(.error, "egress.withoutProxy needs a reason", at: egress["withoutProxy"]?.mark, rule: "settings-missing"))
          } else {
            egressWithoutProxy = reason
          }
        }
      } else {
        problems.append(
          Diagnostic(.error, "'egress' must be a mapping: {withoutProxy: \"reason\"}", at: egress.mark, rule: "settings-type"))
      }
    }

    if !problems.isEmpty { throw DiagnosticError(problems) }
    return EnvironmentSettings(
      cluster: cluster, stateStore: stateStore, kopsVersion: kopsVersion, kopsPath: kopsPath, base: base, region: region,
      profile: profile, igwStrategy: strategy, igwID: igwID, rollingUpdate: rolling, ignore: ignore,
      egressWithoutProxy: egressWithoutProxy, marks: marks)
  }

  static func isDate(_ t: String) -> Bool {
    let u = Array(t.utf8)
    guard u.count == 10, u[4] == 45, u[7] == 45 else { return false }
    for (i, c) in u.enumerated() where i != 4 && i != 7 && !(48...57).contains(c) { return false }
    return true
  }

  /// The known key within edit distance 2 of `key` (case aside), for "did you mean" hints.
  static func closest(_ key: String, in known: Set<String>) -> String? {
    EditDistance.closest(to: key, in: known, maxDistance: 2, ignoringCase: true)
  }
}
