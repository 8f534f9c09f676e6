import Model
import Synchronization

/// Findings that do not stop a plan: configurations that work but surprise people later.
enum WarningRules {
  static func check(_ ctx: inout ValidationContext) {
    guard let spec = ctx.spec else { return }
    awslogs(&ctx, spec)
    egressProxyExcludes(&ctx, spec)
    containerRegistry(&ctx, spec)
    externalDNS(&ctx, spec)
  }

  /// `awslogs-iam`: the awslogs driver writes from the node itself, so both the control plane
  /// and the nodes need logs:CreateLogStream and logs:PutLogEvents.
  static func awslogs(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let driver = spec[path: "docker", "logDriver"], driver.text == "awslogs" else { return }
    let entries = (spec["additionalPolicies"]?.pairs ?? []).map { PolicyEntry(role: $0.key, text: $0.value.stringValue) }
    let missing = awslogsMissing(entries)
    guard !missing.isEmpty else { return }
    ctx.warning(
      "awslogs-iam",
      "spec.docker.logDriver awslogs needs logs:CreateLogStream and logs:PutLogEvents allowed in spec.additionalPolicies for "
        + "\(missing.joined(separator: " and ")); add them, and note that kubectl logs stops working with awslogs "
        + "(consider json-file with a log shipper)",
      at: driver.mark)
  }

  /// One `spec.additionalPolicies` entry as the awslogs rule reads it: the role and the text of
  /// a string value (nil for anything else).
  struct PolicyEntry: Hashable, Sendable {
    var role: String
    var text: String?
  }

  /// The roles (`master`, `node`) whose policies lack what awslogs needs, remembered per list
  /// of entries for the run (environments sharing a base's policies ask the same question).
  static func awslogsMissing(_ entries: [PolicyEntry]) -> [String] {
    let size = entries.reduce(0) { $0 + $1.role.utf8.count + ($1.text?.utf8.count ?? 0) }
    guard size <= 65_536 else { return computeAwslogsMissing(entries) }
    if let hit = rememberedAwslogs.withLock({ $0[entries] }) { return hit }
    let missing = computeAwslogsMissing(entries)
    rememberedAwslogs.withLock { table in
      if table.count < 256 { table[entries] = missing }
    }
    return missing
  }

  private static let rememberedAwslogs = Mutex<[[PolicyEntry]: [String]]>([:])

  static func computeAwslogsMissing(_ entries: [PolicyEntry]) -> [String] {
    let needed = ["logs:CreateLogStream", "logs:PutLogEvents"]
    var policies: [String: [IAMStatement]] = [:]
    for p in entries {
      guard let text = p.text, let doc = try? IAMPolicyDocument.parse(text) else { continue }
      policies[p.role, default: []] += doc.statements
    }
    func allows(_ role: String) -> Bool {
      let statements = policies[role] ?? []
      return needed.allSatisfy { action in
        statements.contains { $0.isAllow && $0.actions.contains { actionMatches(pattern: $0, action) } }
      }
    }
    var missing: [String] = []
    if !(allows("master") || allows("control-plane")) { missing.append("master") }
    if !allows("node") { missing.append("node") }
    return missing
  }

  /// Whether an IAM action pattern (`logs:*`, `*`, `logs:Put*`) covers `action` (case-insensitive).
  static func actionMatches(pattern: String, _ action: String) -> Bool {
    FieldPath.glob(pattern.lowercased(), action.lowercased())
  }

  /// `egress-proxy-excludes`: traffic to S3 must bypass the proxy (kops adds the VPC and metadata service itself).
  static func egressProxyExcludes(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let proxyPair = spec.pair("egressProxy"), proxyPair.value.isMapping else { return }
    let proxy = proxyPair.value
    let excludesNode = proxy["excludes"]
    if let excludesNode, !excludesNode.isNull, excludesNode.scalar == nil { return }  // field-type reports it
    // Most lists cover S3: decided on the bytes when they are plain ASCII, else as below.
    if coversS3ASCII(excludesNode?.text ?? "", region: ctx.env.settings.region) == true { return }
    let entries = EgressProxyView(proxy).excludes.map { $0.lowercased() }
    // kops appends networkCIDR, 169.254.169.254 and its other defaults at create and again, in
    // memory, at every update (assignProxy, upup/pkg/fi/cloudup/defaults.go): only S3 is left.
    var missing: [String] = []
    let region = ctx.env.settings.region.lowercased()
    let s3 = "s3.\(region).amazonaws.com"
    let coversS3 = entries.contains { e in
      let bare = e.hasPrefix(".") ? String(e.dropFirst()) : e
      return bare == s3 || bare == "s3.amazonaws.com" || bare == "amazonaws.com" || bare == "\(region).amazonaws.com"
    }
    if !coversS3 { missing.append(s3) }
    guard !missing.isEmpty else { return }
    ctx.warning(
      "egress-proxy-excludes",
      "spec.egressProxy.excludes lacks \(missing.joined(separator: ", ")); add it: kops appends its defaults (the VPC's "
        + "networkCIDR, 169.254.169.254, the cluster's names) at create and again at every update, but never the S3 "
        + "endpoint, so the nodes' state-store and image traffic goes through the proxy",
      at: excludesNode.map(\.mark) ?? proxyPair.keyMark)
  }

  /// Whether an entry of the comma-separated `excludes` (trimmed, lower-cased, one leading dot
  /// dropped) is S3's endpoint for `region` or a domain above it, as ``egressProxyExcludes``
  /// decides it, on bytes; nil when a text is not plain ASCII or holds a carriage return (there
  /// a `Character` is not a byte: the rule's own code decides).
  static func coversS3ASCII(_ excludes: String, region: String) -> Bool? {
    var text = excludes
    var regionText = region
    return text.withUTF8 { t -> Bool? in
      regionText.withUTF8 { r -> Bool? in
        guard !t.contains(where: { $0 >= 0x80 || $0 == 0x0D }), !r.contains(where: { $0 >= 0x80 || $0 == 0x0D }) else { return nil }
        func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A }
        /// Whether `e`, lower-cased, is `head` + the region (when `withRegion`) + `tail`.
        func matches(_ e: Slice<UnsafeBufferPointer<UInt8>>, _ head: [UInt8], _ withRegion: Bool, _ tail: [UInt8]) -> Bool {
          guard e.count == head.count + (withRegion ? r.count : 0) + tail.count else { return false }
          var i = e.startIndex
          for c in head {
            guard lower(e[i]) == c else { return false }
            i += 1
          }
          if withRegion {
            for c in r {
              guard lower(e[i]) == lower(c) else { return false }
              i += 1
            }
          }
          for c in tail {
            guard lower(e[i]) == c else { return false }
            i += 1
          }
          return true
        }
        var start = 0
        while start <= t.count {
          var end = start
          while end < t.count && t[end] != 0x2C { end += 1 }
          var e = t[start..<end]
          start = end + 1
          while let f = e.first, isSpace(f) { e = e.dropFirst() }
          while let l = e.last, isSpace(l) { e = e.dropLast() }
          if e.first == 0x2E { e = e.dropFirst() }
          // s3.REGION.amazonaws.com, s3.amazonaws.com, amazonaws.com, REGION.amazonaws.com
          if matches(e, S3Names.s3, true, S3Names.domain) || matches(e, S3Names.s3Global, false, [])
            || matches(e, S3Names.amazon, false, []) || matches(e, [], true, S3Names.domain)
          {
            return true
          }
        }
        return false
      }
    }
  }

  private enum S3Names {
    static let s3 = Array("s3.".utf8)
    static let domain = Array(".amazonaws.com".utf8)
    static let s3Global = Array("s3.amazonaws.com".utf8)
    static let amazon = Array("amazonaws.com".utf8)
  }

  /// `iam-container-registry`: the node role may read every ECR repository of the account.
  static func containerRegistry(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let node = spec[path: "iam", "allowContainerRegistry"], node.boolValue == true else { return }
    ctx.warning(
      "iam-container-registry",
      "spec.iam.allowContainerRegistry: true lets every pod on a node read all ECR repositories of the account; "
        + "prefer IRSA (spec.iam.serviceAccountExternalPermissions) for the workloads that pull",
      at: node.mark)
  }

  /// `external-dns-watch-ingress`: ingress hostnames would be published in a public zone.
  static func externalDNS(_ ctx: inout ValidationContext, _ spec: YAMLNode) {
    guard let node = spec[path: "externalDns", "watchIngress"], node.boolValue == true else { return }
    let privateDNS = spec[path: "topology", "dns", "type"]?.text == "Private"
    let zone = spec["dnsZone"]?.text.map { !$0.isEmpty } ?? false
    guard !(privateDNS && zone) else { return }
    ctx.warning(
      "external-dns-watch-ingress",
      "spec.externalDns.watchIngress: true publishes ingress hostnames, but the cluster has no private DNS zone "
        + "(topology.dns.type: Private and dnsZone); set both, or set watchIngress: false",
      at: node.mark)
  }
}
