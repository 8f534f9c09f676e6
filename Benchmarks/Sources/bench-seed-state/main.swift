// P1's set-up: records state for environments through hk's own Store, as `hk apply` would.
//
// Usage: bench-seed-state ROOT DBPATH ENV...
//
// Loads each named environment of the repository at ROOT with hk's own loader and records a
// revision for it in the SQLite state database DBPATH (created when missing; it must not hold
// these environments yet), the way hk's apply engine records its objects: the Cluster and the
// InstanceGroups emitted by hk's YAML emitter, the cloud updated, no rolls pending. So that
// the plan has work to do, the recorded objects differ from the desired ones in a fixed mix:
// of every three environments, the first is recorded as desired (no changes), the second with
// its last instance group on another machine type (one IG update and its roll), the third
// with an older kubernetesVersion (a cluster spec change that rolls every group).
import Config
import Foundation
import Model
import Store

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("bench-seed-state: \(message)\n".utf8))
  exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
  FileHandle.standardError.write(Data("usage: bench-seed-state ROOT DBPATH ENV...\n".utf8))
  exit(64)
}
let repository = Repository(root: arguments[0])
let store: SQLiteStateStore
do {
  store = try SQLiteStateStore(path: arguments[1])
} catch {
  fail("\(arguments[1]): \(error.localizedDescription)")
}
let actor = StoreActor.current(command: "bench-seed-state")
var recorded = 0
for (index, name) in arguments.dropFirst(2).enumerated() {
  let env: Environment
  do {
    env = try repository.load(name)
  } catch {
    fail(error.diagnostics.map(\.description).joined(separator: "\n"))
  }
  var cluster = env.cluster
  var groups = env.instanceGroups
  switch index % 3 {
  case 1:
    if var last = groups.popLast() {
      last.set(path: ["spec", "machineType"], .string("t3.medium"))
      groups.append(last)
    }
  case 2:
    cluster.set(path: ["spec", "kubernetesVersion"], .string("1.22.17"))
  default:
    break
  }
  let draft = RecordedStateDraft(
    environment: name, clusterYAML: YAMLEmitter.emit(cluster), instanceGroupsYAML: groups.map { YAMLEmitter.emit($0) },
    cloudUpdated: true, pendingRolls: [], igwAttached: false, kopsVersion: env.settings.kopsVersion.description,
    desiredDigest: env.desiredDigest)
  do {
    try store.record(draft, expectedPrior: nil, actor: actor, note: "seeded by Benchmarks/bench-seed-state")
  } catch {
    fail("\(name): \(error.localizedDescription)")
  }
  recorded += 1
}
print("recorded=\(recorded)")
