import Foundation
import Model

/// Names and identifiers that reach kops's and aws's argv, hk's output and PR comments, checked
/// by their formats where they enter (docs/SECURITY.md): a pull request controls them.
///
/// | rule | what |
/// | --- | --- |
/// | `ig-name-dns` | an InstanceGroup's `metadata.name` is a DNS-1123 subdomain (as kops requires) |
/// | `settings-state-store` | `stateStore` is `s3://`, `gs://`, `azureblob://`, `do://`, `swift://`, `scw://`, `memfs://` or `file://` and a path of URL-safe characters |
/// | `settings-region` | `aws.region` looks like `ap-northeast-1` |
/// | `settings-profile` | `aws.profile` is letters, digits and `._+=,@-`, not starting with `-` |
/// | `settings-igw-id` | `internetGateway.id` is `igw-` and letters or digits (EC2: 8 or 17 hex digits) |
/// | `vpc-id` / `subnet-id` | `spec.networkID` is `vpc-…`, a subnet's `id` is `subnet-…` |
/// | `settings-kops-path` | `kopsPath` is an absolute path outside the repository |
enum NameRules {
  static func check(_ ctx: inout ValidationContext) {
    let settings = ctx.env.settings
    let marks = settings.marks
    for ig in ctx.env.instanceGroups {
      guard let node = ig[path: "metadata", "name"], let name = node.text else { continue }
      if let problem = dns1123SubdomainProblem(name) {
        ctx.error(
          "ig-name-dns",
          "instancegroup name '\(name)' \(problem): kops requires a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
            + "starting and ending with a letter or digit, at most 253 characters)",
          at: node.mark)
      }
    }
    if !isStateStore(settings.stateStore) {
      ctx.error(
        "settings-state-store",
        "stateStore '\(settings.stateStore)' is not a kops state store URL: use s3://BUCKET[/PREFIX] (or gs://, azureblob://, do://, "
          + "swift://, scw://, memfs://, file://) with letters, digits and '-._~/%+=,:'",
        at: marks["stateStore"])
    }
    if !isRegion(settings.region) {
      ctx.error(
        "settings-region", "aws.region '\(settings.region)' is not an AWS region name (e.g. ap-northeast-1, us-gov-west-1)",
        at: marks["aws"])
    }
    if let profile = settings.profile, !isProfile(profile) {
      ctx.error(
        "settings-profile",
        "aws.profile '\(profile)' is not a profile name: use letters, digits and '._+=,@-', not starting with '-' (at most 128)",
        at: marks["aws"])
    }
    if let id = settings.igwID, !isAWSID(id, prefix: "igw-") {
      ctx.error(
        "settings-igw-id",
        "internetGateway.id '\(id)' is not an internet gateway id (igw- and letters or digits, e.g. igw-0a1b2c3d4e5f60718)",
        at: marks["internetGateway"])
    }
    if let node = ValidationContext.present(ctx.spec, "networkID"), let id = node.text, !isAWSID(id, prefix: "vpc-") {
      ctx.error("vpc-id", "spec.networkID '\(id)' is not a VPC id (vpc- and letters or digits, e.g. vpc-0a11d2e3f4a5b6c7d)", at: node.mark)
    }
    for subnet in ctx.spec?["subnets"]?.items ?? [] {
      guard let node = ValidationContext.present(subnet, "id"), let id = node.text else { continue }
      if !isAWSID(id, prefix: "subnet-") {
        ctx.error(
          "subnet-id", "subnet id '\(id)' is not a subnet id (subnet- and letters or digits, e.g. subnet-010a1111111111111)", at: node.mark)
      }
    }
    if let path = settings.kopsPath, let problem = kopsPathProblem(path, directory: ctx.env.directory) {
      ctx.error("settings-kops-path", "kopsPath '\(path)' \(problem)", at: marks["kopsPath"])
    }
  }

  /// Why `name` is not a DNS-1123 subdomain (dots allowed, none required), or nil.
  static func dns1123SubdomainProblem(_ name: String) -> String? {
    if isDNS1123Subdomain(name) { return nil }
    let bytes = Array(name.utf8)
    if bytes.isEmpty { return "is empty" }
    if bytes.count > 253 { return "is longer than 253 characters" }
    func isAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    if !bytes.allSatisfy({ isAlnum($0) || $0 == 0x2D || $0 == 0x2E }) {
      return "has characters other than lower-case letters, digits, '-' and '.'"
    }
    for label in bytes.split(separator: 0x2E, omittingEmptySubsequences: false) {
      guard let first = label.first, let last = label.last else { return "has an empty label (two dots, or a dot at an end)" }
      if !isAlnum(first) || !isAlnum(last) { return "has a label that starts or ends with '-'" }
    }
    return nil
  }

  /// Whether `name` is a DNS-1123 subdomain (``dns1123SubdomainProblem(_:)`` finds nothing),
  /// decided on its bytes without a copy.
  static func isDNS1123Subdomain(_ name: String) -> Bool {
    var name = name
    return name.withUTF8 { b in
      guard (1...253).contains(b.count) else { return false }
      func isAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
      var labelStart = true
      var previous: UInt8 = 0
      for c in b {
        if c == 0x2E {
          // a label ends: it must not be empty and must end with a letter or digit
          guard !labelStart, isAlnum(previous) else { return false }
          labelStart = true
        } else if isAlnum(c) || c == 0x2D {
          if labelStart && !isAlnum(c) { return false }
          labelStart = false
        } else {
          return false
        }
        previous = c
      }
      return !labelStart && isAlnum(previous)
    }
  }

  /// Whether the bytes are ASCII without a carriage return: there every `Character` is one
  /// byte, so a check on bytes decides as the `String` one does.
  @inline(__always)
  static func isPlainASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    !b.contains { $0 >= 0x80 || $0 == 0x0D }
  }

  /// The bytes `isStateStore` allows after the scheme.
  static let stateStoreBytes: [Bool] = (0..<256).map { (i: Int) -> Bool in
    let c = UInt8(i)
    if c >= 0x61 && c <= 0x7A { return true }
    if c >= 0x41 && c <= 0x5A { return true }
    if c >= 0x30 && c <= 0x39 { return true }
    return "-._~/%+=,:".utf8.contains(c)
  }

  static let stateStoreSchemeBytes = stateStoreSchemes.map { Array($0.utf8) }

  /// ``isStateStore(_:)`` on the bytes of plain ASCII (nil for other text).
  static func isStateStoreASCII(_ s: String) -> Bool? {
    var s = s
    return s.withUTF8 { b -> Bool? in
      guard isPlainASCII(b) else { return nil }
      guard let scheme = stateStoreSchemeBytes.first(where: { p in b.count >= p.count && zip(p, b).allSatisfy { $0 == $1 } }) else {
        return false
      }
      let rest = b[scheme.count...]
      guard let first = rest.first, first != UInt8(ascii: "-"), rest.count <= 1024 else { return false }
      return rest.allSatisfy { stateStoreBytes[Int($0)] }
    }
  }

  /// ``isRegion(_:)`` on the bytes of plain ASCII (nil for other text).
  static func isRegionASCII(_ s: String) -> Bool? {
    var s = s
    return s.withUTF8 { b -> Bool? in
      guard isPlainASCII(b) else { return nil }
      guard b.count <= 32 else { return false }
      // words of lower-case letters, then a last part of digits: at least three parts
      var parts = 1
      var partLength = 0
      var digitsOnly = true
      var lettersOnly = true
      for c in b {
        if c == 0x2D {
          guard partLength > 0, lettersOnly else { return false }
          parts += 1
          partLength = 0
          digitsOnly = true
          lettersOnly = true
        } else {
          partLength += 1
          if !(c >= 0x30 && c <= 0x39) { digitsOnly = false }
          if !(c >= 0x61 && c <= 0x7A) { lettersOnly = false }
        }
      }
      return parts >= 3 && partLength > 0 && digitsOnly
    }
  }

  /// ``isAWSID(_:prefix:)`` on the bytes of plain ASCII (nil for other text).
  static func isAWSIDASCII(_ s: String, prefix: String) -> Bool? {
    var s = s
    var prefix = prefix
    return s.withUTF8 { b -> Bool? in
      prefix.withUTF8 { p -> Bool? in
        guard isPlainASCII(b), isPlainASCII(p) else { return nil }
        guard b.count >= p.count, zip(p, b).allSatisfy({ $0 == $1 }) else { return false }
        let body = b[p.count...]
        guard (1...32).contains(body.count) else { return false }
        return body.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) }
      }
    }
  }

  static let stateStoreSchemes = ["s3://", "gs://", "azureblob://", "do://", "swift://", "scw://", "memfs://", "file://"]

  static func isStateStore(_ s: String) -> Bool {
    if let fast = isStateStoreASCII(s) { return fast }
    guard let scheme = stateStoreSchemes.first(where: { s.hasPrefix($0) }) else { return false }
    let rest = s.utf8.dropFirst(scheme.utf8.count)
    guard let first = rest.first, first != UInt8(ascii: "-"), rest.count <= 1024 else { return false }
    return rest.allSatisfy { c in
      (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || "-._~/%+=,:".utf8.contains(c)
    }
  }

  /// `xx-name-N` with optional extra words (`us-gov-west-1`, `cn-north-1`, `us-iso-east-1`).
  static func isRegion(_ s: String) -> Bool {
    if let fast = isRegionASCII(s) { return fast }
    let parts = s.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count >= 3, s.utf8.count <= 32, let last = parts.last, last.allSatisfy(\.isASCII),
      last.allSatisfy({ $0 >= "0" && $0 <= "9" }), !last.isEmpty
    else { return false }
    return parts.dropLast().allSatisfy { p in !p.isEmpty && p.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7A } }
  }

  static func isProfile(_ s: String) -> Bool {
    guard let first = s.utf8.first, first != UInt8(ascii: "-"), s.utf8.count <= 128 else { return false }
    return s.utf8.allSatisfy { c in
      (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || "._+=,@-".utf8.contains(c)
    }
  }

  /// `prefix` and 1 to 32 ASCII letters or digits. EC2 writes 8 or 17 hex digits; kops's own
  /// fixtures use shorter ids (`vpc-123456`, `subnet-1`), which kops accepts. What matters here:
  /// no `-`, `=`, space or control character can follow the prefix.
  static func isAWSID(_ s: String, prefix: String) -> Bool {
    if let fast = isAWSIDASCII(s, prefix: prefix) { return fast }
    guard s.hasPrefix(prefix) else { return false }
    let body = s.utf8.dropFirst(prefix.utf8.count)
    guard (1...32).contains(body.count) else { return false }
    return body.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) }
  }

  /// Why a repository's `kopsPath` cannot name the binary, or nil: it must be absolute and,
  /// resolved, lie outside the repository (a pull request could otherwise ship its own kops).
  static func kopsPathProblem(_ path: String, directory: String) -> String? {
    guard path.hasPrefix("/") else {
      return "is not an absolute path: the operator's kops (--kops-map, --kops, HK_KOPS_MAP, HK_KOPS) is used instead; "
        + "name an installed binary such as /opt/kops-1.28/kops, or remove kopsPath"
    }
    if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "holds control characters" }
    // The repository root is two levels above the environment's directory (ROOT/environments/ENV).
    let root = URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
    let resolvedRoot = resolve(root)
    let resolved = resolve(path)
    if resolved == resolvedRoot || resolved.hasPrefix(resolvedRoot.hasSuffix("/") ? resolvedRoot : resolvedRoot + "/") {
      return "lies inside the repository (\(resolved)): a pull request could change that binary; install kops outside it "
        + "and name it with --kops-map or kopsPath"
    }
    return nil
  }

  /// `path` with symlinks resolved (the longest existing prefix, the rest appended).
  static func resolve(_ path: String) -> String {
    var head = path
    var tail: [String] = []
    while !head.isEmpty && head != "/" {
      if let r = realpath(head, nil) {
        defer { free(r) }
        return ([String(cString: r)] + tail.reversed()).joined(separator: "/").replacingAll("//", "/")
      }
      let url = URL(fileURLWithPath: head)
      tail.append(url.lastPathComponent)
      head = url.deletingLastPathComponent().path
    }
    return "/" + tail.reversed().joined(separator: "/")
  }
}
