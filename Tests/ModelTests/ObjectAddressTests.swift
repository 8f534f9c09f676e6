import Model
import Testing

@Suite struct ObjectAddressTests {
  /// Plan JSON format "1" spells a step's object `cluster` or `instancegroup/NAME`.
  @Test(arguments: [
    (ObjectAddress.cluster, "cluster"), (.instanceGroup("nodes-a"), "instancegroup/nodes-a"),
    (.instanceGroup("a/b"), "instancegroup/a/b"),
  ])
  func stepObjectsReadBack(address: ObjectAddress, text: String) {
    #expect(address.stepObject == text)
    #expect(ObjectAddress(stepObject: text) == address)
  }

  @Test func gatewayAndSettingsAreNoStepObject() {
    #expect(ObjectAddress.internetGateway("igw-1").stepObject == nil)
    #expect(ObjectAddress.settings.stepObject == nil)
    #expect(ObjectAddress(stepObject: "internetGateway/igw-1") == nil)
  }

  /// A change's or drift item's path names its object (the cluster's start with `spec`).
  @Test(arguments: [
    ("instancegroup[nodes-a].spec.machineType", ObjectAddress.instanceGroup("nodes-a")),
    ("instancegroup[nodes-a]", .instanceGroup("nodes-a")), ("internetGateway[igw-1]", .internetGateway("igw-1")),
    ("settings.aws.profile", .settings), ("spec.kubernetesVersion", .cluster), ("cluster[dev.k8s]", .cluster),
    ("kopsVersion", .cluster), ("spec.subnets[name=a].cidr", .cluster),
  ])
  func pathsNameTheirObject(path: String, address: ObjectAddress) {
    #expect(ObjectAddress(path: path) == address)
    if let prefix = address.pathPrefix { #expect(path.hasPrefix(prefix)) }
  }
}
