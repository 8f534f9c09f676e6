import Config
import Model
import Testing

@Suite struct OverlayTests {
  static func node(_ text: String) throws -> YAMLNode {
    try #require(try YAMLParser.parse(text, file: "t.yaml").first)
  }

  static func merged(_ base: String, _ overlay: String) throws -> YAMLNode {
    Overlay.stripPatchMarkers(Overlay.merge(base: try node(base), overlay: try node(overlay)))
  }

  @Test func mapsMergeDeeply() throws {
    let m = try Self.merged(
      "spec:\n  api: {loadBalancer: {type: Internal, class: Network}}\n  channel: stable\n",
      "spec:\n  api: {loadBalancer: {type: Public}}\n  kubernetesVersion: 1.28.9\n")
    #expect(m[path: "spec", "api", "loadBalancer", "type"]?.text == "Public")
    #expect(m[path: "spec", "api", "loadBalancer", "class"]?.text == "Network")
    #expect(m[path: "spec", "channel"]?.text == "stable")
    #expect(m[path: "spec", "kubernetesVersion"]?.text == "1.28.9")
    #expect(m["spec"]?.pairs?.map(\.key) == ["api", "channel", "kubernetesVersion"])
  }

  @Test func namedListsMergeByName() throws {
    let m = try Self.merged(
      "subnets:\n- {name: a, cidr: 10.0.0.0/19, type: Private}\n- {name: b, cidr: 10.0.32.0/19}\n",
      "subnets:\n- {name: b, id: subnet-2}\n- {name: c, cidr: 10.0.64.0/19}\n")
    let items = try #require(m["subnets"]?.items)
    #expect(items.compactMap { $0["name"]?.text } == ["a", "b", "c"])
    #expect(items[1]["cidr"]?.text == "10.0.32.0/19")
    #expect(items[1]["id"]?.text == "subnet-2")
  }

  @Test func nullDeletes() throws {
    let m = try Self.merged(
      "spec:\n  docker: {logDriver: awslogs}\n  networking: {flannel: {backend: vxlan}}\n",
      "spec:\n  docker: null\n  networking: {flannel: ~, cilium: {}}\n  added: null\n")
    #expect(m[path: "spec", "docker"] == nil)
    #expect(m[path: "spec", "networking"]?.pairs?.map(\.key) == ["cilium"])
    #expect(m[path: "spec", "added"] == nil)
  }

  @Test func patchDeleteRemovesANamedItem() throws {
    let m = try Self.merged(
      "subnets:\n- {name: a}\n- {name: b}\n", "subnets:\n- {name: a, $patch: delete}\n- {name: z, $patch: delete}\n")
    #expect(m["subnets"]?.items?.compactMap { $0["name"]?.text } == ["b"])
  }

  @Test func patchMarkersAreStripped() throws {
    let m = try Self.merged("subnets:\n- {name: a}\n", "subnets:\n- {name: n, $patch: merge}\n")
    #expect(m["subnets"]?.items?.last?.pair("$patch") == nil)
    #expect(m["subnets"]?.items?.count == 2)
  }

  @Test func unnamedListsAndScalarsAreReplaced() throws {
    let m = try Self.merged("logOpt: [a, b]\nkeep: 1\nk: {x: 1}\n", "logOpt: [c]\nk: scalar\n")
    #expect(m["logOpt"] == (try Self.node("[c]")))
    #expect(m["k"]?.text == "scalar")
    #expect(m["keep"]?.intValue == 1)
  }

  @Test func overlayMarksWin() throws {
    let base = try YAMLParser.parse("spec:\n  a: 1\n  b: 2\n", file: "base.yaml")[0]
    let overlay = try YAMLParser.parse("spec:\n  b: 3\n", file: "env.yaml")[0]
    let m = Overlay.merge(base: base, overlay: overlay)
    #expect(m[path: "spec", "a"]?.mark.file == "base.yaml")
    #expect(m[path: "spec", "b"]?.mark.file == "env.yaml")
    #expect(m[path: "spec", "b"]?.intValue == 3)
  }

  @Test func sampleEnvironmentsMergeTheirBase() throws {
    let repo = Repository(root: packageRoot())
    let prod = try repo.load("prod")
    #expect(prod.cluster[path: "spec", "docker"] == nil)  // `docker: null` deleted the base's block
    #expect(prod.cluster[path: "spec", "networking", "flannel", "backend"]?.text == "vxlan")
    #expect(prod.cluster[path: "spec", "iam", "allowContainerRegistry"]?.boolValue == true)
    let staging = try repo.load("staging")
    #expect(staging.cluster[path: "spec", "networking"]?.pairs?.map(\.key) == ["cilium"])
    let dev = try repo.load("dev")
    #expect(dev.cluster[path: "spec", "docker", "logDriver"]?.mark.file == "environments/_base/cluster.yaml")
    #expect(dev.cluster[path: "spec", "docker", "logOpt"]?.items?.count == 3)
  }
}
