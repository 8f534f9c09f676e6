import Foundation
import Model

/// An IPv4 CIDR as Go's `net.ParseCIDR` returns it: the address as written and the network.
struct IPv4CIDR {
  var address: UInt32
  var prefix: Int

  init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let p = Int(parts[1]), (0...32).contains(p) else { return nil }
    let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
    guard octets.count == 4 else { return nil }
    var value: UInt32 = 0
    for o in octets {
      guard let b = UInt8(o), String(b) == o else { return nil }
      value = value << 8 | UInt32(b)
    }
    address = value
    prefix = p
  }

  init(network: UInt32, prefix: Int) {
    address = network
    self.prefix = prefix
  }

  var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }
  var network: UInt32 { address & mask }
  var size: UInt64 { UInt64(1) << UInt64(32 - prefix) }

  func contains(_ ip: UInt32) -> Bool { ip & mask == network }
  func overlaps(_ other: IPv4CIDR) -> Bool { contains(other.network) || other.contains(network) }

  static func format(_ ip: UInt32) -> String {
    "\(ip >> 24 & 255).\(ip >> 16 & 255).\(ip >> 8 & 255).\(ip & 255)"
  }
  var networkText: String { IPv4CIDR.format(network) + "/\(prefix)" }

  /// `subnet.SplitInto`: the network split into 2^bits equal parts.
  func split(_ bits: Int) -> [IPv4CIDR] {
    let length = prefix + bits
    guard length <= 32 else { return [] }
    return (0..<(1 << bits)).map { i in IPv4CIDR(network: network &+ (UInt32(i) << UInt32(32 - length)), prefix: length) }
  }
}

/// `cloudup.BuildCloud` for AWS: the region from the subnets' zones, zones checked against EC2.
enum Cloud {
  static func region(_ cluster: YAMLNode, rt: Runtime) throws(KopsError) -> String {
    var region = ""
    for s in cluster[path: "spec", "subnets"]?.items ?? [] {
      let zone = s["zone"]?.text ?? ""
      let name = s["name"]?.text ?? ""
      guard zone.count > 2 else { throw KopsError("invalid AWS zone: \(goQuote(zone)) in subnet \(goQuote(name))") }
      let zoneRegion = String(zone.dropLast())
      if !region.isEmpty && zoneRegion != region {
        throw KopsError("error Clusters cannot span multiple regions (found zone \(goQuote(zone)), but region is \(goQuote(region)))")
      }
      region = zoneRegion
    }
    if region.isEmpty { region = rt.env["AWS_REGION"] ?? rt.env["AWS_DEFAULT_REGION"] ?? "us-east-1" }
    return region
  }

  /// Builds the EC2 client after kops's zone validation (needs the AWS API).
  static func build(_ cluster: YAMLNode, rt: Runtime) throws(KopsError) -> EC2Client {
    let cloudProvider = cluster[path: "spec", "cloudProvider"]?.text ?? (cluster[path: "spec", "cloudProvider"]?.pairs?.first?.key ?? "")
    guard cloudProvider == "aws" || cloudProvider.isEmpty else {
      throw KopsError("fake-kops simulates AWS only; cloudProvider is \(goQuote(cloudProvider))")
    }
    let region = try region(cluster, rt: rt)
    let ec2 = EC2Client(rt: rt, region: region)
    let zones: [String]
    do {
      zones = try ec2.availabilityZones()
    } catch {
      throw KopsError("error querying for valid AZs in \(goQuote(region)) - verify your AWS credentials.  Error: \(error.message)")
    }
    for s in cluster[path: "spec", "subnets"]?.items ?? [] {
      let zone = s["zone"]?.text ?? ""
      if !zones.contains(zone) {
        Klog.info("aws_cloud.go:2206", "Known zones: \(goQuote(zones.joined(separator: ",")))")
        throw KopsError("error Zone is not a recognized AZ: \(goQuote(zone)) (check you have specified a valid zone?)")
      }
    }
    return ec2
  }
}

/// `cloudup.PerformAssignments` and the parts of `validation.ValidateCluster` hk can trip over.
enum Assignments {
  static func perform(_ cluster: inout YAMLNode, ec2: EC2Client, rt: Runtime) throws(KopsError) {
    let name = cluster[path: "metadata", "name"]?.text ?? ""
    var spec = cluster["spec"] ?? .mapping([])
    func text(_ key: String) -> String { spec[key]?.text ?? "" }

    if rt.atLeast(1, 27), var etcd = spec["etcdClusters"]?.items {
      for i in etcd.indices where etcd[i][path: "manager", "backupRetentionDays"] == nil {
        etcd[i].set(path: ["manager", "backupRetentionDays"], .int(90))
      }
      spec.set("etcdClusters", .sequence(etcd))
    }

    let networkID = text("networkID")
    if text("networkCIDR").isEmpty {
      if !networkID.isEmpty {
        let cidr: String?
        do {
          cidr = try ec2.vpcCIDR(networkID)
        } catch {
          throw KopsError("error populating configuration: error describing VPC \(goQuote(networkID)): \(error.message)")
        }
        guard let cidr else { throw KopsError("error populating configuration: unable to find Network ID \(goQuote(networkID))") }
        spec.set("networkCIDR", .string(cidr))
      } else {
        spec.set("networkCIDR", .string("172.20.0.0/16"))
      }
      if spec[path: "networking", "amazonvpc"] != nil && text("nonMasqueradeCIDR") != "::/0" {
        spec.set("nonMasqueradeCIDR", .string(text("networkCIDR")))
      }
    }
    if text("nonMasqueradeCIDR").isEmpty { spec.set("nonMasqueradeCIDR", .string("100.64.0.0/10")) }

    let dnsType = spec[path: "topology", "dns", "type"]?.text ?? "Public"
    let publicDNS = dnsType.isEmpty || dnsType == "Public"
    if (!rt.release.fillsMasterPublicNameForPublicDNSOnly || publicDNS) && text("masterPublicName").isEmpty && !name.isEmpty {
      spec.set("masterPublicName", .string("api." + name))
    }

    try assignSubnetCIDRs(&spec, ec2: ec2)

    if var proxy = spec["egressProxy"], proxy.isMapping {
      guard let nonMasq = IPv4CIDR(text("nonMasqueradeCIDR")) else {
        throw KopsError("error populating configuration: unable to parse Non Masquerade CIDR")
      }
      guard nonMasq.contains(nonMasq.address &+ 1) else {
        throw KopsError("error populating configuration: unable to get first ip address in Non Masquerade CIDR")
      }
      if text("networkCIDR").isEmpty {
        Klog.warning("defaults.go:201", "No NetworkCIDR defined (yet), not adding to egressProxy.excludes")
      }
      proxy.set("excludes", .string(excludes(spec, name: name, rt: rt)))
      spec.set("egressProxy", proxy)
    }

    if text("kubernetesVersion").isEmpty {
      let channel = text("channel")
      if channel.isEmpty {
        Klog.warning("defaults.go:154", "Channel is not set; cannot determine KubernetesVersion from channel")
      } else if channel != "none" {
        throw KopsError(
          "error populating configuration: error reading channel \(goQuote(channel)): Get \"https://raw.githubusercontent.com/kubernetes/kops/master/channels/\(channel)\": dial tcp: lookup raw.githubusercontent.com: no such host"
        )
      }
      let stable = "https://dl.k8s.io/release/stable.txt"
      Klog.warning("defaults.go:169", "Loading latest kubernetes version from \(goQuote(stable))")
      throw KopsError(
        "error populating configuration: KubernetesVersion not specified, and unable to download latest version from \(goQuote(stable)): Get \(goQuote(stable)): dial tcp: lookup dl.k8s.io: no such host"
      )
    }
    cluster.set("spec", spec)
  }

  /// `assignProxy` (`upup/pkg/fi/cloudup/defaults.go`): the user's excludes followed by kops's
  /// defaults, each only when not a substring of the user's string. kops runs it at create and
  /// again, in memory, at every `update` before it renders user data.
  static func excludes(_ spec: YAMLNode, name: String, rt: Runtime) -> String {
    func text(_ key: String) -> String { spec[key]?.text ?? "" }
    let original = spec[path: "egressProxy", "excludes"]?.text ?? ""
    var list = original.isEmpty ? [] : original.components(separatedBy: ",")
    let first = IPv4CIDR(text("nonMasqueradeCIDR")).map { IPv4CIDR.format($0.address &+ 1) } ?? ""
    var defaults = [
      "127.0.0.1", "localhost", text("clusterDNSDomain"), text("masterPublicName"), name, first, text("nonMasqueradeCIDR"),
      "169.254.169.254", text("networkCIDR"),
    ]
    if rt.release.excludesAdditionalNetworkCIDRs { defaults += spec["additionalNetworkCIDRs"]?.items?.compactMap(\.text) ?? [] }
    for exclude in defaults where !exclude.isEmpty && !original.contains(exclude) { list.append(exclude) }
    return list.joined(separator: ",")
  }

  /// The assignments `update` repeats in memory before rendering user data that need no cloud
  /// call: the default `nonMasqueradeCIDR` and `masterPublicName` (as at create, by release).
  static func inMemory(_ stored: YAMLNode, name: String, rt: Runtime) -> YAMLNode {
    var spec = stored
    func text(_ key: String) -> String { spec[key]?.text ?? "" }
    if text("nonMasqueradeCIDR").isEmpty {
      let amazonVPC = spec[path: "networking", "amazonvpc"] != nil && !text("networkCIDR").isEmpty
      spec.set("nonMasqueradeCIDR", .string(amazonVPC ? text("networkCIDR") : "100.64.0.0/10"))
    }
    let dnsType = spec[path: "topology", "dns", "type"]?.text ?? "Public"
    let publicDNS = dnsType.isEmpty || dnsType == "Public"
    if (!rt.release.fillsMasterPublicNameForPublicDNSOnly || publicDNS) && text("masterPublicName").isEmpty && !name.isEmpty {
      spec.set("masterPublicName", .string("api." + name))
    }
    return spec
  }

  /// The proxy environment kops writes into user data (`pkg/model/bootstrapscript.go`), with the
  /// excludes recomputed as at update; nil without `egressProxy`.
  static func proxyEnvironment(_ spec: YAMLNode, name: String, rt: Runtime) -> String? {
    guard let proxy = spec["egressProxy"], proxy.isMapping, let host = proxy[path: "httpProxy", "host"]?.text else { return nil }
    let port = proxy[path: "httpProxy", "port"]?.intValue.map { ":\($0)" } ?? ""
    let url = "http://\(host)\(port)"
    return "http_proxy=\(url)\nhttps_proxy=\(url)\nno_proxy=\(excludes(spec, name: name, rt: rt))"
  }

  /// `assignCIDRsToSubnets`: shared subnets take their CIDR from EC2, others are carved out of
  /// `networkCIDR` like kops does.
  static func assignSubnetCIDRs(_ spec: inout YAMLNode, ec2: EC2Client) throws(KopsError) {
    guard var subnets = spec["subnets"]?.items, subnets.contains(where: { $0["cidr"]?.text == nil }) else { return }
    let networkID = spec["networkID"]?.text ?? ""
    if !networkID.isEmpty {
      let cloudSubnets: [(id: String, cidr: String, zone: String)]
      do {
        cloudSubnets = try ec2.subnets(vpc: networkID)
      } catch {
        throw KopsError("error populating configuration: error listing subnets in VPC \(goQuote(networkID)): \(error.message)")
      }
      for i in subnets.indices {
        guard let id = subnets[i]["id"]?.text else { continue }
        guard let found = cloudSubnets.first(where: { $0.id == id }) else {
          throw KopsError("error populating configuration: Subnet \(goQuote(id)) not found in VPC \(goQuote(networkID))")
        }
        if let cidr = subnets[i]["cidr"]?.text {
          if cidr != found.cidr {
            throw KopsError(
              "error populating configuration: Subnet \(goQuote(id)) has configured CIDR \(goQuote(cidr)), but the actual CIDR found was \(goQuote(found.cidr))"
            )
          }
        } else {
          subnets[i].set("cidr", .string(found.cidr))
        }
        let zone = subnets[i]["zone"]?.text ?? ""
        if zone != found.zone {
          throw KopsError(
            "error populating configuration: Subnet \(goQuote(id)) has configured Zone \(goQuote(zone)), but the actual Zone found was \(goQuote(found.zone))"
          )
        }
      }
    }
    if subnets.allSatisfy({ $0["cidr"]?.text != nil }) {
      spec.set("subnets", .sequence(subnets))
      return
    }
    let networkText = spec["networkCIDR"]?.text ?? ""
    guard let network = IPv4CIDR(networkText) else {
      throw KopsError("error populating configuration: Invalid NetworkCIDR: \(goQuote(networkText))")
    }
    var big: [Int] = []
    var little: [Int] = []
    var reserved: [IPv4CIDR] = []
    for (i, s) in subnets.enumerated() {
      if let c = s["cidr"]?.text {
        guard let parsed = IPv4CIDR(c) else {
          throw KopsError("error populating configuration: invalid subnet \(goQuote(s["name"]?.text ?? "")) CIDR: \(goQuote(c))")
        }
        if !network.contains(parsed.network) { continue }
        reserved.append(parsed)
      }
      switch s["type"]?.text ?? "" {
      case "DualStack", "Public", "Private": big.append(i)
      case "Utility": little.append(i)
      default:
        throw KopsError(
          "error populating configuration: subnet \(goQuote(s["name"]?.text ?? "")) has unknown type \(goQuote(s["type"]?.text ?? ""))")
      }
    }
    big.sort { (subnets[$0]["zone"]?.text ?? "") < (subnets[$1]["zone"]?.text ?? "") }
    little.sort { (subnets[$0]["zone"]?.text ?? "") < (subnets[$1]["zone"]?.text ?? "") }
    let count = big.count + (little.isEmpty ? 0 : 1)
    let bits = count <= 1 ? 0 : count <= 2 ? 1 : count <= 4 ? 2 : 3
    var bigCIDRs = network.split(bits).filter { c in !reserved.contains { $0.overlaps(c) } }
    guard !bigCIDRs.isEmpty else {
      throw KopsError(
        "error populating configuration: could not find any non-overlapping CIDRs in parent NetworkCIDR; cannot automatically assign CIDR to subnet"
      )
    }
    if !little.isEmpty {
      var littleCIDRs = bigCIDRs.removeFirst().split(3)
      for i in little where subnets[i]["cidr"]?.text == nil {
        guard !littleCIDRs.isEmpty else {
          throw KopsError(
            "error populating configuration: insufficient (little) CIDRs remaining for automatic CIDR allocation to subnet \(goQuote(subnets[i]["name"]?.text ?? ""))"
          )
        }
        let c = littleCIDRs.removeFirst().networkText
        subnets[i].set("cidr", .string(c))
        Klog.info("subnets.go:205", "Assigned CIDR \(c) to subnet \(subnets[i]["name"]?.text ?? "")")
      }
    }
    for i in big where subnets[i]["cidr"]?.text == nil {
      guard !bigCIDRs.isEmpty else {
        throw KopsError(
          "error populating configuration: insufficient (big) CIDRs remaining for automatic CIDR allocation to subnet \(goQuote(subnets[i]["name"]?.text ?? ""))"
        )
      }
      let c = bigCIDRs.removeFirst().networkText
      subnets[i].set("cidr", .string(c))
      Klog.info("subnets.go:224", "Assigned CIDR \(c) to subnet \(subnets[i]["name"]?.text ?? "")")
    }
    spec.set("subnets", .sequence(subnets))
  }

  // MARK: Validation

  /// The subset of `ValidateCluster` that hk's configurations can violate; nil when valid,
  /// else the aggregated message (`a` or `[a, b]`).
  static func validate(_ cluster: YAMLNode, rt: Runtime) -> String? {
    var errs: [String] = []
    let spec = cluster["spec"] ?? .mapping([])
    let net = rt.atLeast(1, 26) ? "spec.networking." : "spec."
    let subnets = spec["subnets"]?.items ?? []

    if spec[path: "iam", "legacy"]?.boolValue == true && rt.release.refusesLegacyIAM {
      errs.append("spec.iam.legacy: Forbidden: legacy IAM permissions are no longer supported")
    }
    let docker = "Docker CRI support was removed in Kubernetes 1.24: https://kubernetes.io/blog/2020/12/02/dockershim-faq"
    if rt.release.refusesDockerSpec && spec["docker"] != nil {
      errs.append("spec.docker: Forbidden: \(docker)")
    } else if spec["containerRuntime"]?.text == "docker", KopsRelease.kubernetesFrom124(spec["kubernetesVersion"]?.text) == true {
      errs.append("spec.containerRuntime: Forbidden: \(docker)")
    }

    let withID = subnets.filter { $0["id"]?.text != nil }.count
    if withID != 0 && withID != subnets.count {
      for (i, s) in subnets.enumerated() where s["id"]?.text == nil {
        errs.append("\(net)subnets[\(i)].id: Forbidden: cannot mix subnets with specified ID and unspecified ID")
      }
    }
    let networkCIDR = IPv4CIDR(spec["networkCIDR"]?.text ?? "")
    let additional = (spec["additionalNetworkCIDRs"]?.items ?? []).compactMap { IPv4CIDR($0.text ?? "") }
    for (i, s) in subnets.enumerated() {
      let path = "\(net)subnets[\(i)]"
      let name = s["name"]?.text ?? ""
      let type = s["type"]?.text ?? ""
      if let c = s["cidr"]?.text, let parsed = IPv4CIDR(c), let network = networkCIDR,
        !([network] + additional).contains(where: { $0.contains(parsed.network) && parsed.prefix >= $0.prefix })
      {
        errs.append(
          "\(path).cidr: Forbidden: subnet \(goQuote(name)) cidr \(goQuote(c)) is not a subnet of the networkCIDR \(goQuote(network.networkText))"
        )
      }
      if let egress = s["egress"]?.text, !egress.isEmpty {
        let prefix = String(egress.split(separator: "-", omittingEmptySubsequences: false).first ?? "")
        var allowed = ["nat", "i", "External"]
        if rt.atLeast(1, 19) { allowed.append("eipalloc") }
        if rt.atLeast(1, 20) { allowed.append("tgw") }
        if !allowed.contains(prefix) {
          errs.append(
            "\(path).egress: Invalid value: \(goQuote(egress)): egress must be of type NAT Gateway, NAT Gateway with existing ElasticIP, NAT EC2 Instance, Transit Gateway, or External"
          )
        }
        if egress != "External" && type != "DualStack" && type != "Private" && (s["ipv6CIDR"]?.text == nil || type != "Public") {
          errs.append("\(path).egress: Forbidden: egress can only be specified for private or IPv6-capable public subnets")
        }
      }
      if !["Public", "Private", "Utility", "DualStack"].contains(type) {
        errs.append(
          "\(path).type: Unsupported value: \(goQuote(type)): supported values: \"DualStack\", \"Private\", \"Public\", \"Utility\"")
      }
    }

    if rt.release.internalAPILoadBalancerNeedsPrivateSubnet, spec[path: "api", "loadBalancer", "type"]?.text == "Internal",
      !subnets.contains(where: { $0["type"]?.text == "Private" })
    {
      errs.append("spec.api.loadBalancer.type: Forbidden: Internal LoadBalancers must have at least one subnet of type Private")
    }

    let options = spec["networking"]?.pairs?.map(\.key) ?? []
    if options.count > 1 {
      errs.append(
        "\(rt.atLeast(1, 26) ? "spec.networking" : "spec.networking").\(options[1]): Forbidden: only one networking option permitted")
    }

    var roles = ["control-plane", "apiserver", "node", "bastion"]
    if !rt.release.policyRolesSayControlPlane { roles = ["master", "apiserver", "node", "bastion"] }
    for p in spec["additionalPolicies"]?.pairs ?? [] {
      let path = "spec.additionalPolicies"
      let key = p.key == "master" ? roles[0] : p.key
      if !roles.contains(key) {
        errs.append("\(path): Unsupported value: \(goQuote(p.key)): supported values: \(roles.map(goQuote).joined(separator: ", "))")
      }
      let policy = p.value.text ?? ""
      let parsed: JSONValue
      do {
        parsed = try JSONValue.parse(policy)
      } catch {
        errs.append("\(path)[\(p.key)]: Invalid value: \(goQuote(policy)): policy was not valid JSON: \(error.message)")
        continue
      }
      let statements = parsed.arrayValue ?? (parsed["Statement"]?.arrayValue ?? [parsed])
      for (i, st) in statements.enumerated() {
        let effect = st["Effect"]?.stringValue ?? ""
        if effect.isEmpty {
          errs.append("\(path)[\(p.key)][\(i)].Effect: Required value: Effect must be specified for IAM policy")
        } else if effect != "Allow" && effect != "Deny" {
          errs.append(
            "\(path)[\(p.key)][\(i)].Effect: Unsupported value: \(goQuote(effect)): supported values: \"Allow\", \"Deny\"")
        }
      }
    }

    if errs.isEmpty { return nil }
    return errs.count == 1 ? errs[0] : "[" + errs.joined(separator: ", ") + "]"
  }
}
