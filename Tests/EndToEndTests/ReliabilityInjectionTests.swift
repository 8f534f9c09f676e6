import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, injection: instance group names, a state store and an AWS profile full of shell
/// metacharacters reach kops and aws as single argv elements (asserted through the kops
/// double's invocation log and the aws wrapper's argv log), through a create, an instance group
/// create, a roll and a delete; no canary file is ever created. A cluster name full of them is
/// refused before anything runs (kops requires a DNS name: rule `cluster-name-dns`).
extension Reliability {
  @Suite(.serialized) struct Injection {
    @Test func namesWithShellMetacharactersReachKopsAndAWSAsSingleArguments() throws {
      let w = try Reliability.world.get()
      let name = Reliability.world.nextName("inject")
      try w.addEnvironment(name)
      let hostileCluster = "\(name) $(touch canary1);`touch canary2`|x&y>z'q.k8s.corp.local"
      let cluster = "\(name).k8s.corp.local"
      let store = "s3://corp-kops-state-\(name)/a b$(touch canary5)"
      let profile = "corp dev $(touch canary6);x`id`"
      let igA = "nodes-a $(touch canary3)"
      let igB = "nodes-b;touch canary4|x&y>z"
      var results: [(String, ProcessResult)] = []
      // The hostile cluster name: refused with a positioned error, nothing run.
      for file in ["cluster.yaml", "environment.yaml"] {
        try w.edit("environments/\(name)/\(file)") { $0.replacingOccurrences(of: cluster, with: hostileCluster) }
      }
      let refused = try w.apply([name], env: ["HK_AWS": w.awsWrapper])
      var problems: [String] = []
      if refused.exitCode != 1 || !refused.stderr.contains("environments/\(name)/cluster.yaml:")
        || !refused.stderr.contains("fully-qualified DNS name")
      {
        problems.append("a cluster name with shell metacharacters is refused by cluster-name-dns: \(refused)")
      }
      if w.kops.logEntries().contains(where: { ($0["argv"]?.arrayValue ?? []).contains { $0.stringValue?.contains("canary1") == true } }) {
        problems.append("kops was called with the hostile cluster name")
      }
      for file in ["cluster.yaml", "environment.yaml"] {
        try w.edit("environments/\(name)/\(file)") {
          $0.replacingOccurrences(of: hostileCluster, with: cluster)
            .replacingOccurrences(of: "s3://corp-kops-state-\(name)", with: store)
            .replacingOccurrences(of: "profile: corp-dev", with: "profile: \"\(profile.replacingOccurrences(of: "`", with: "\\u0060"))\"")
        }
      }
      try w.append(to: "../aws/config", "[profile \(profile)]\nregion = ap-northeast-1\n")
      try w.append(to: "../aws/credentials", "[\(profile)]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
      let argvLog = w.dir.path + "/\(name)-aws-argv.log"
      let env = ["HK_AWS": w.awsWrapper, "REL_ARGV_LOG": argvLog]

      // Create; add two groups; change the proxy (rolls every group) and delete one of them.
      results.append(("create", try w.apply([name], env: env)))
      try w.edit("environments/\(name)/cluster.yaml") { text in
        guard let doc = text.components(separatedBy: "\n---\n").first(where: { $0.contains("name: nodes-ap-northeast-1a\n") }) else {
          return text
        }
        return text + "\n---\n" + doc.replacingOccurrences(of: "name: nodes-ap-northeast-1a\n", with: "name: \(igA)\n") + "\n---\n"
          + doc.replacingOccurrences(of: "name: nodes-ap-northeast-1a\n", with: "name: \(igB)\n")
      }
      results.append(("add groups", try w.apply([name], env: env)))
      try w.edit("environments/\(name)/cluster.yaml") { text in
        var docs = text.components(separatedBy: "\n---\n")
        docs.removeAll { $0.contains("name: \(igB)\n") }
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
        let i = argv.firstIndex(of: "--profile")
        check("--profile is one element: \(argv)", i.map { argv.indices.contains($0 + 1) && argv[$0 + 1] == profile } == true)
      }
      // Nothing was executed by a shell.
      let canaries = Self.canaries(under: w.dir.path) + Self.canaries(under: FileManager.default.currentDirectoryPath)
      check("no canary file: \(canaries)", canaries.isEmpty)
      ReliabilityReport.append(
        "injection",
        [
          ("kopsCalls", .int(Int64(calls.count))), ("awsCalls", .int(Int64(awsCalls.count))), ("canaries", .int(Int64(canaries.count))),
          ("applies", .array(results.map { .string("\($0.0): exit \($0.1.exitCode)") })),
          ("values", .array([hostileCluster, store, profile, igA, igB].map { .string($0) })),
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
