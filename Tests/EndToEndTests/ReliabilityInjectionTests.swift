import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, injection, tightened by issue 17: a cluster name, instance group names, a state
/// store and an AWS profile full of shell metacharacters are refused where they enter, with a
/// position (`cluster-name-dns`, `ig-name-dns`, `settings-state-store`, `settings-profile`), and
/// reach neither kops nor aws. Names that pass (dots, dashes) reach kops and aws as single argv
/// elements (asserted through the kops double's invocation log and the aws wrapper's argv log),
/// through a create, an instance group create, a roll and a delete; no canary file is ever created.
extension Reliability {
  @Suite(.serialized) struct Injection {
    @Test func namesWithShellMetacharactersAreRefusedAndOthersReachKopsAndAWSAsSingleArguments() throws {
      let (w, name) = try Reliability.world.withNewEnvironment("inject")
      let hostileCluster = "\(name) $(touch canary1);`touch canary2`|x&y>z'q.k8s.corp.local"
      let cluster = "\(name).k8s.corp.local"
      let store = "s3://corp-kops-state-\(name)"
      let hostileStore = "s3://corp-kops-state-\(name)/a b$(touch canary5)"
      let hostileProfile = "corp dev $(touch canary6);x`id`"
      let hostileIGA = "nodes-a $(touch canary3)"
      let hostileIGB = "nodes-b;touch canary4|x&y>z"
      let igA = "nodes-a.\(name)"
      let igB = "nodes-b-\(name)"
      var results: [(String, ProcessResult)] = []
      var problems: [String] = []
      func groups(_ a: String, _ b: String) -> (String) -> String {
        { text in
          guard let doc = text.components(separatedBy: "\n---\n").first(where: { $0.contains("name: nodes-ap-northeast-1a\n") }) else {
            return text
          }
          return text + "\n---\n" + doc.replacingOccurrences(of: "name: nodes-ap-northeast-1a\n", with: "name: \"\(a)\"\n")
            + "\n---\n" + doc.replacingOccurrences(of: "name: nodes-ap-northeast-1a\n", with: "name: \"\(b)\"\n")
        }
      }
      // Each hostile value on its own: refused with a positioned error, nothing run.
      let cases: [(String, String, (String) -> String, String)] = [
        ("cluster name", "cluster.yaml", { $0.replacingOccurrences(of: cluster, with: hostileCluster) }, "fully-qualified DNS name"),
        ("state store", "environment.yaml", { $0.replacingOccurrences(of: store, with: hostileStore) }, "is not a kops state store URL"),
        (
          "profile", "environment.yaml",
          {
            $0.replacingOccurrences(
              of: "profile: corp-dev", with: "profile: \"\(hostileProfile.replacingOccurrences(of: "`", with: "\\u0060"))\"")
          },
          "is not a profile name"
        ),
        ("instance group names", "cluster.yaml", groups(hostileIGA, hostileIGB), "kops requires a DNS-1123 subdomain"),
      ]
      for (what, file, change, message) in cases {
        let path = w.root + "/environments/\(name)/\(file)"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try w.edit("environments/\(name)/\(file)", change)
        let refused = try w.apply([name], env: ["HK_AWS": w.awsWrapper])
        if refused.exitCode != 1 || !refused.stderr.contains("environments/\(name)/\(file):") || !refused.stderr.contains(message) {
          problems.append("a \(what) with shell metacharacters is refused with a position: \(refused)")
        }
        try original.write(toFile: path, atomically: true, encoding: .utf8)
      }
      if w.kops.logEntries().contains(where: {
        ($0["argv"]?.arrayValue ?? []).contains { v in ["canary", "$("].contains { v.stringValue?.contains($0) == true } }
      }) {
        problems.append("kops was called with a hostile value")
      }
      let profile = "corp-dev"
      let argvLog = w.dir.path + "/\(name)-aws-argv.log"
      let env = ["HK_AWS": w.awsWrapper, "REL_ARGV_LOG": argvLog]

      // Create; add two groups; change the proxy (rolls every group) and delete one of them.
      results.append(("create", try w.apply([name], env: env)))
      try w.edit("environments/\(name)/cluster.yaml", groups(igA, igB))
      results.append(("add groups", try w.apply([name], env: env)))
      try w.edit("environments/\(name)/cluster.yaml") { text in
        var docs = text.components(separatedBy: "\n---\n")
        docs.removeAll { $0.contains("name: \"\(igB)\"\n") }
        docs[0] = docs[0].replacingOccurrences(
          of: "ecr.ap-northeast-1.amazonaws.com\"", with: "ecr.ap-northeast-1.amazonaws.com,sts.ap-northeast-1.amazonaws.com\"")
        return docs.joined(separator: "\n---\n")
      }
      results.append(("roll and delete", try w.apply([name], env: env)))
      for (what, r) in results { #expect(r.exitCode == 0, "\(what): \(r)") }

      // The double's log: every call on this store.
      let calls = w.kops.logEntries().filter { $0["event"]?.stringValue == "start" }.map { e in
        (e["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
      }.filter { $0.contains(store) }
      func check(_ what: String, _ ok: Bool) { if !ok { problems.append(what) } }
      check("kops was called", calls.count >= 10)
      for argv in calls {
        if let i = argv.firstIndex(of: "--state") {
          check("--state is one element: \(argv)", argv.indices.contains(i + 1) && argv[i + 1] == store)
        }
        if ["update", "rolling-update", "validate", "export"].contains(argv.first ?? "") {
          check("the cluster name is one element: \(argv)", argv.count > 2 && argv[2] == cluster)
        }
        if argv.first == "get" { check("the cluster name is one element: \(argv)", argv.contains(cluster)) }
      }
      let deletes = calls.filter { $0.first == "delete" }
      check(
        "delete instancegroup got the group name as one element: \(deletes)",
        deletes == [["delete", "instancegroup", igB, "--name", cluster, "--state", store, "--yes"]])
      let rolls = calls.filter { $0.first == "rolling-update" }
      let rolled = rolls.last.flatMap { argv in argv.firstIndex(of: "--instance-group").map { argv[$0 + 1] } }
      check(
        "rolling-update got the groups as one element: \(rolls)",
        rolled == ["control-plane-ap-northeast-1a", igA, "nodes-ap-northeast-1a", "nodes-ap-northeast-1c"].sorted().joined(separator: ","))
      // The wrappers' argv log (the aws wrapper's calls are `ec2 …`).
      let logged = ((try? String(contentsOfFile: argvLog, encoding: .utf8)) ?? "").split(separator: "\u{1E}").map {
        $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
      }
      let awsCalls = logged.filter { $0.first == "ec2" }
      check("the kops wrapper saw the same argv as the double", logged.filter { $0.first != "ec2" && $0.contains(store) } == calls)
      check("aws was called", awsCalls.count >= 6)
      for argv in awsCalls {
        check("--profile=VALUE is one element: \(argv)", argv.contains("--profile=\(profile)") && !argv.contains("--profile"))
      }
      // Nothing was executed by a shell.
      let canaries = Self.canaries(under: w.dir.path) + Self.canaries(under: FileManager.default.currentDirectoryPath)
      check("no canary file: \(canaries)", canaries.isEmpty)
      ReliabilityReport.append(
        "injection",
        [
          ("kopsCalls", .int(Int64(calls.count))), ("awsCalls", .int(Int64(awsCalls.count))), ("canaries", .int(Int64(canaries.count))),
          ("applies", .array(results.map { .string("\($0.0): exit \($0.1.exitCode)") })),
          ("values", .array([hostileCluster, hostileStore, hostileProfile, hostileIGA, hostileIGB, igA, igB].map { .string($0) })),
          ("problems", .array(problems.map { .string(String($0.prefix(600))) })),
        ])
      #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    static func canaries(under dir: String) -> [String] {
      guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
      var found: [String] = []
      while let item = e.nextObject() as? String {
        let last = (item as NSString).lastPathComponent
        if last.hasPrefix("canary") && !last.contains("(") && !last.contains(";") { found.append(item) }
      }
      return found
    }
  }
}
