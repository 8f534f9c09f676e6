import Model
import Testing

@Suite struct FieldPathTests {
  @Test func building() {
    #expect(FieldPath.key("", "spec") == "spec")
    #expect(FieldPath.key("spec", "subnets") == "spec.subnets")
    #expect(FieldPath.named("spec.subnets", "a") == "spec.subnets[name=a]")
    #expect(FieldPath.index("spec.docker.logOpt", 0) == "spec.docker.logOpt[0]")
    #expect(FieldPath.key("metadata.labels", "kops.k8s.io/cluster") == "metadata.labels[\"kops.k8s.io/cluster\"]")
    #expect(FieldPath.key("a", "with space") == "a[\"with space\"]")
    #expect(FieldPath.key("a", "") == "a[\"\"]")
  }

  @Test func segments() {
    #expect(FieldPath.segments("spec.subnets[name=a].cidr") == ["spec", "subnets", "[name=a]", "cidr"])
    #expect(FieldPath.segments("a[0][1].b") == ["a", "[0]", "[1]", "b"])
    #expect(FieldPath.segments("m[\"x.y]z\"].k") == ["m", "[\"x.y]z\"]", "k"])
    #expect(FieldPath.segments("") == [])
  }

  @Test(arguments: [
    ("spec.kubernetesVersion", "spec.kubernetesVersion", true),
    ("spec.kubernetesVersion", "spec.kubernetesVersion.x", true),
    ("spec.kubernetesVersion", "spec.kubelet", false),
    ("spec", "spec.anything[0]", true),
    ("spec.subnets[name=*].cidr", "spec.subnets[name=a].cidr", true),
    ("spec.subnets[name=*].cidr", "spec.subnets[name=a].zone", false),
    ("spec.subnets[*].cidr", "spec.subnets[3].cidr", true),
    ("spec.*.egress", "spec.subnets.egress", true),
    ("spec.kubelet.containerLog*", "spec.kubelet.containerLogMaxFiles", true),
    ("spec.kubelet.containerLog*", "spec.kubelet.maxPods", false),
    ("spec.subnets[name=priv*]", "spec.subnets[name=private-a]", true),
    ("spec.subnets[name=priv*]", "spec.subnets[name=utility-a]", false),
    ("spec.a.b", "spec.a", false),
  ])
  func matching(pattern: String, candidate: String, expected: Bool) {
    #expect(FieldPath.matches(pattern: pattern, candidate) == expected)
  }

  @Test func ignoreRules() {
    let rule = IgnoreRule(path: "spec.subnets[name=*].cidr", reason: "r", until: "2027-01-31")
    #expect(rule.matches("spec.subnets[name=b].cidr"))
    #expect(!rule.isExpired(today: "2027-01-31"))
    #expect(rule.isExpired(today: "2027-02-01"))
    #expect(!IgnoreRule(path: "x", reason: "r").isExpired(today: "9999-12-31"))
  }
}
