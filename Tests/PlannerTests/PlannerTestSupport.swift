import Config
import Foundation
import HKTestSupport
import Model
import Planner
import Testing

/// The package root, from this file's path.
let packageRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// A sample environment from the repository's own `environments/` (read only).
func sample(_ name: String) throws -> Environment {
  try Repository(root: packageRoot).load(name)
}

/// What apply records after writing `env` and updating the cloud.
func recorded(
  _ env: Environment, serial: Int64 = 3, cloudUpdated: Bool = true, pendingRolls: [String] = [], igwAttached: Bool = false,
  validated: Bool = true
) -> RecordedState {
  RecordedState(
    serial: serial, lineage: "7d0c3c7e-4f1c-4b8e-9a51-1f0e2d3c4b5a",
    draft: RecordedStateDraft(
      environment: env.name, clusterYAML: YAMLEmitter.emit(env.cluster),
      instanceGroupsYAML: env.instanceGroups.map { YAMLEmitter.emit($0) }, cloudUpdated: cloudUpdated,
      pendingRolls: pendingRolls, igwAttached: igwAttached, validated: validated))
}

func yaml(_ text: String) throws -> YAMLNode {
  try #require(try YAMLParser.parse(text, file: "test.yaml").first)
}

extension Environment {
  mutating func setCluster(_ path: String, _ value: YAMLNode) {
    cluster.set(path: path.split(separator: ".").map(String.init), value)
  }
  mutating func setIG(_ name: String, _ path: String, _ value: YAMLNode) {
    guard let i = instanceGroups.firstIndex(where: { InstanceGroupView($0).name == name }) else { return }
    instanceGroups[i].set(path: path.split(separator: ".").map(String.init), value)
  }
}

/// The golden files of these tests (`Tests/PlannerTests/Golden`; `HK_RECORD=1` rewrites them).
let golden = GoldenFiles(nextTo: #filePath)
