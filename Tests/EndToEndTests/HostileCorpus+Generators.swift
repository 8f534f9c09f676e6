import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// The generators of bombs, nesting and size, encoding and duplicates, names and state databases.
extension HostileCorpus {
  // MARK: Bombs, nesting, size

  static func bombs() -> [HostileInput] {
    @Sendable func laughs(_ key: String, levels: Int, width: Int) -> String {
      var s = "\(key):\n  l0: &l0 [\(Array(repeating: "lol", count: width).joined(separator: ", "))]\n"
      for i in 1...levels {
        s += "  l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: width).joined(separator: ", ") + "]\n"
      }
      return s
    }
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let settings = String(decoding: original(settingsFile), as: UTF8.self)
    @Sendable func inSpec(_ extra: String) -> [UInt8] { bytes(cluster.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n" + extra)) }
    return [
      input("bombs", "billion laughs in spec") {
        inSpec(laughs("  lols", levels: 9, width: 10).replacingOccurrences(of: "\n  l", with: "\n    l"))
      },
      input("bombs", "billion laughs at the top of cluster.yaml") { bytes(laughs("lols", levels: 9, width: 10)) + bytes(cluster) },
      input("bombs", "billion laughs in environment.yaml", file: settingsFile) { bytes(settings + laughs("lols", levels: 9, width: 10)) },
      input("bombs", "wide and deep (30 × 6)") { bytes(laughs("lols", levels: 6, width: 30)) + bytes(cluster) },
      input("bombs", "mapping bomb with merge keys") {
        var s = "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
        for i in 1...9 { s += "m\(i): &m\(i) {" + (0..<8).map { "k\($0): *m\(i - 1)" }.joined(separator: ", ") + "}\n" }
        return bytes(s) + bytes(cluster)
      },
      input("bombs", "merge key chain") {
        var s = "b0: &b0 {x: 1}\n"
        for i in 1...2000 { s += "b\(i): &b\(i)\n  <<: *b\(i - 1)\n  y\(i): \(i)\n" }
        return bytes(s) + bytes(cluster)
      },
      input("bombs", "an alias to an undefined anchor") { inSpec("  channel: *undefined\n") },
      input("bombs", "an alias used before its anchor") { inSpec("  a: *later\n  b: &later x\n") },
      input("bombs", "3000 anchors") { inSpec((0..<3000).map { "  k\($0): &a\($0) v\n" }.joined()) },
      input("bombs", "alias as a mapping key") { inSpec("  x: &k name\n  *k : y\n") },
    ]
  }

  static func nesting() -> [HostileInput] {
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    return [
      input("nesting", "100000 nested flow sequences") {
        bytes("spec: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n")
      },
      input("nesting", "50000 nested flow mappings") {
        bytes("spec: " + String(repeating: "{a: ", count: 50_000) + "1" + String(repeating: "}", count: 50_000) + "\n")
      },
      input("nesting", "unterminated 200000 [") { bytes("spec: " + String(repeating: "[", count: 200_000)) },
      input("nesting", "block mappings 3000 deep") {
        bytes(
          cluster + "\n---\n" + (0..<3000).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined()
            + String(repeating: " ", count: 3000) + "v: 1\n")
      },
      input("nesting", "block sequences 5000 deep") { bytes(String(repeating: "- ", count: 5000) + "x\n") },
      input("nesting", "nested in environment.yaml", file: settingsFile) {
        bytes("cluster: " + String(repeating: "[", count: 60_000) + String(repeating: "]", count: 60_000) + "\n")
      },
      input("nesting", "deep spec.subnets") {
        bytes(
          cluster.replacingOccurrences(
            of: "\n  subnets:\n",
            with: "\n  subnets: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n  x:\n"))
      },
    ]
  }

  /// Documents wide enough that a quadratic step would run for minutes (the base overlay
  /// merge did: 40000 keys took 3.6 s in a release build, an 8 MB file about 25 minutes).
  static func wide() -> [HostileInput] {
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let inputs = [
      input("wide", "60000 keys in spec") {
        bytes(cluster.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n" + (0..<60000).map { "  k\($0): v\n" }.joined()))
      },
      input("wide", "20000 named subnets") {
        bytes(
          cluster.replacingOccurrences(
            of: "\n  subnets:\n",
            with: "\n  subnets:\n" + (0..<20000).map { "  - {name: s\($0), zone: ap-northeast-1a, type: Private}\n" }.joined()))
      },
      input("wide", "100000 list items") {
        bytes(cluster.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n  items:\n" + String(repeating: "  - x\n", count: 100_000)))
      },
    ]
    return inputs.map { i in
      var i = i
      i.commands = .validateOnly(env: "dev")
      return i
    }
  }

  static func huge() -> [HostileInput] {
    let fifty = 50 * 1024 * 1024
    let cluster = original(clusterFile)
    return [
      input("huge", "50 MB cluster.yaml (valid YAML, a long comment)") {
        var b = cluster
        b.reserveCapacity(fifty + 10)
        b += bytes("\n#")
        b += [UInt8](repeating: UInt8(ascii: "x"), count: fifty - b.count)
        return b
      },
      input("huge", "50 MB of list items") {
        let unit = bytes("- item\n")
        var b: [UInt8] = bytes("items:\n")
        b.reserveCapacity(fifty + unit.count)
        while b.count < fifty { b += unit }
        return b
      },
      input("huge", "50 MB environment.yaml", file: settingsFile) {
        [UInt8](repeating: UInt8(ascii: "a"), count: fifty)
      },
      input("huge", "50 MB manifest", file: "environments/dev/manifests/huge.yaml", expect: .clearError) {
        bytes("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  x: \"") + [UInt8](repeating: UInt8(ascii: "z"), count: fifty)
          + bytes("\"\n")
      },
    ]
  }

  // MARK: Encoding, duplicates

  static func encoding() -> [HostileInput] {
    var rng = SplitMix64(seed: 0x6b5f_0002)
    var out: [HostileInput] = []
    let invalid: [[UInt8]] = [
      [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFE, 0xFF], [0x80],
    ]
    for file in [clusterFile, settingsFile] {
      let text = original(file)
      let short = file.hasSuffix("environment.yaml") ? "environment.yaml" : "cluster.yaml"
      for _ in 0..<(file == clusterFile ? 25 : 10) {
        let offset = Int(rng.next() % UInt64(text.count))
        out.append(
          input("encoding", "\(short): NUL at +\(offset)", file: file) {
            var b = text
            b.insert(0, at: offset)
            return b
          })
      }
      for _ in 0..<(file == clusterFile ? 25 : 10) {
        let offset = Int(rng.next() % UInt64(text.count))
        let seq = invalid[Int(rng.next() % UInt64(invalid.count))]
        out.append(
          input("encoding", "\(short): bytes \(seq.map { String($0, radix: 16) }.joined(separator: " ")) at +\(offset)", file: file) {
            var b = text
            b.insert(contentsOf: seq, at: offset)
            return b
          })
      }
    }
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    @Sendable func utf16(_ bigEndian: Bool) -> [UInt8] {
      var b: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
      for unit in cluster.utf16 { b += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
      return b
    }
    out.append(input("encoding", "UTF-16 LE with BOM") { utf16(false) })
    out.append(input("encoding", "UTF-16 BE with BOM") { utf16(true) })
    out.append(input("encoding", "UTF-32 LE BOM prefix") { [0xFF, 0xFE, 0, 0] + bytes(cluster) })
    out.append(input("encoding", "a NUL-only file") { [UInt8](repeating: 0, count: 4096) })
    out.append(
      input("encoding", "random binary") {
        var r = SplitMix64(seed: 0x6b5f_0003)
        return (0..<8192).map { _ in UInt8(truncatingIfNeeded: r.next()) }
      })
    out.append(input("encoding", "CR-only line ends") { bytes(cluster.replacingOccurrences(of: "\n", with: "\r")) })
    out.append(
      input("encoding", "NUL in a quoted scalar") {
        bytes(cluster.replacingOccurrences(of: "name: dev.k8s.corp.local", with: "name: \"dev\\0.k8s.corp.local\""))
      })
    return out
  }

  static func duplicates() -> [HostileInput] {
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let settings = String(decoding: original(settingsFile), as: UTF8.self)
    func c(_ label: String, _ a: String, _ b: String) -> HostileInput {
      input("duplicates", label) { bytes(cluster.replacingOccurrences(of: a, with: b)) }
    }
    func s(_ label: String, _ a: String, _ b: String) -> HostileInput {
      input("duplicates", label, file: settingsFile) { bytes(settings.replacingOccurrences(of: a, with: b)) }
    }
    return [
      c("kind twice", "kind: Cluster\n", "kind: Cluster\nkind: Cluster\n"),
      c("spec twice", "\nspec:\n  configBase", "\nspec: {}\nspec:\n  configBase"),
      c("metadata.name twice", "  name: dev.k8s.corp.local\n", "  name: dev.k8s.corp.local\n  name: prod.k8s.corp.local\n"),
      c("spec.networkID twice", "  networkID:", "  networkID: vpc-1\n  networkID:"),
      c("egressProxy.excludes twice", "    excludes:", "    excludes: a\n    excludes:"),
      c("subnet name twice", "  - name: private-ap-northeast-1a\n", "  - name: private-ap-northeast-1a\n    name: x\n"),
      c("instance group minSize twice", "  minSize: 2\n", "  minSize: 2\n  minSize: 3\n"),
      c("instance group labels twice", "  labels:\n", "  labels: {}\n  labels:\n"),
      c("flow mapping duplicate", "  topology:\n", "  x: {a: 1, a: 2}\n  topology:\n"),
      c("quoted and plain duplicate", "  dnsZone:", "  \"dnsZone\": x\n  dnsZone:"),
      s("cluster twice", "cluster: dev", "cluster: prod.k8s.corp.local\ncluster: dev"),
      s("aws.region twice", "aws: {region: ap-northeast-1,", "aws: {region: us-east-1, region: ap-northeast-1,"),
      s("internetGateway.strategy twice", "  strategy: temporary\n", "  strategy: temporary\n  strategy: none\n"),
      s("rollingUpdate twice", "rollingUpdate: auto", "rollingUpdate: manual\nrollingUpdate: auto"),
    ]
  }

  // MARK: Names

  /// Hostile names: path traversal and shell metacharacters.
  static let hostileNames = [
    "../dev", "../../etc/passwd", "dev/../staging", "./dev", "/etc", "dev;touch canary", "$(touch canary)", "`touch canary`",
    "dev|cat", "dev&&touch canary", "dev>canary", "dev canary", "*", "dev\ntouch canary", "DEV", "dev.", "dév", "", "-dev",
    String(repeating: "a", count: 300), "dev'\"", "..", "~",
  ]

  static func names() -> [HostileInput] {
    var out: [HostileInput] = []
    for n in hostileNames {
      out.append(
        HostileInput(category: "names", label: "environment argument \(n.debugDescription)", commands: .name(n), expect: .clearError))
    }
    // Directories with hostile names next to the samples.
    for d in ["$(touch canary)", "a b", "-x", "UPPER", ".hidden", "dev;id", "x`id`"] {
      out.append(
        HostileInput(
          category: "names", label: "environment directory \(d.debugDescription)", extraEnvironments: [d], commands: .allEnvironments,
          expect: .clearError))
    }
    // Cluster and instance group names, and file names, in the YAML.
    let cluster = String(decoding: original(clusterFile), as: UTF8.self)
    let settings = String(decoding: original(settingsFile), as: UTF8.self)
    for n in ["../../etc", "dev;touch canary", "$(touch canary).k8s", "`touch canary`", "a|b&c>d", "dev\\ntouch", "../x/../y"] {
      let renamed = n.replacingOccurrences(of: "\"", with: "")
      out.append(
        HostileInput(
          category: "names", label: "cluster name \(n.debugDescription)",
          files: [
            (clusterFile, { @Sendable in bytes(cluster.replacingOccurrences(of: "dev.k8s.corp.local", with: "'\(renamed)'")) }),
            (
              settingsFile,
              { @Sendable in bytes(settings.replacingOccurrences(of: "cluster: dev.k8s.corp.local", with: "cluster: '\(renamed)'")) }
            ),
          ], expect: .clearError))
      out.append(
        input("names", "instance group name \(n.debugDescription)", expect: .clearError) {
          bytes(cluster.replacingOccurrences(of: "name: nodes-ap-northeast-1c", with: "name: '\(renamed)'"))
        })
    }
    for b in [
      "../../../../etc/passwd", "../dev/environment.yaml", "/dev/zero", "$(touch canary)", "../_base", "../../../../proc/self/environ",
    ] {
      out.append(
        input("names", "base \(b.debugDescription)", file: settingsFile, expect: .clearError) {
          bytes(settings.replacingOccurrences(of: "base: ../_base/cluster.yaml", with: "base: '\(b)'"))
        })
    }
    return out
  }

  // MARK: State databases

  static func stateDatabases() -> [HostileInput] {
    let kinds: [HostileInput.StateDB] = [
      .directory, .directoryWithFiles, .notSQLite, .truncated, .corruptedPages, .corruptedHeader, .empty, .fifo, .devNull,
      .parentIsAFile, .symlinkLoop, .danglingSymlink, .readOnlyFile, .readOnlyDirectory, .unreadableFile,
    ]
    return kinds.map {
      HostileInput(category: "state-db", label: "state-db \($0)", commands: .stateDatabase, expect: .clearError, stateDB: $0)
    }
  }
}
