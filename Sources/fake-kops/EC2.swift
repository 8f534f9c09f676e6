import Foundation
import Model

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An AWS call that failed, worded like the AWS SDK for Go (v1) that kops uses.
struct AWSError: Error {
  var message: String
}

/// A minimal EC2 Query API client for the calls kops makes, aimed at `$AWS_ENDPOINT_URL`
/// (a moto server in the tests). Requests carry an unsigned SigV4-shaped `Authorization`
/// header so that moto routes them to EC2 in the right region.
struct EC2Client {
  var endpoint: String?
  var region: String
  var hasCredentials: Bool
  /// The access key id sent in the (unsigned) credential scope; moto picks the account by it.
  var accessKey: String

  init(rt: Runtime, region: String) {
    endpoint = rt.env["AWS_ENDPOINT_URL_EC2"] ?? rt.env["AWS_ENDPOINT_URL"]
    self.region = region
    let env = rt.env
    accessKey = env["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "fakekops"
    hasCredentials =
      (env["AWS_ACCESS_KEY_ID"].map { !$0.isEmpty } ?? false) || (env["AWS_PROFILE"].map { !$0.isEmpty } ?? false)
      || fileExists(env["AWS_SHARED_CREDENTIALS_FILE"] ?? (rt.home + "/.aws/credentials"))
  }

  /// One Query API call; returns the response XML.
  func call(_ action: String, _ parameters: [(String, String)] = []) throws(AWSError) -> String {
    guard hasCredentials else {
      throw AWSError(
        message:
          "NoCredentialProviders: no valid providers in chain. Deprecated.\n\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors"
      )
    }
    let host = "ec2.\(region).amazonaws.com"
    guard let endpoint, !endpoint.isEmpty, let url = URL(string: endpoint) else {
      throw AWSError(
        message:
          "RequestError: send request failed\ncaused by: Post \"https://\(host)/\": dial tcp: lookup \(host): no such host (fake-kops: AWS_ENDPOINT_URL is not set)"
      )
    }
    var body = "Action=\(action)&Version=2016-11-15"
    for (k, v) in parameters { body += "&" + encode(k) + "=" + encode(v) }
    var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 15)
    request.httpMethod = "POST"
    request.httpBody = Data(body.utf8)
    request.setValue("application/x-www-form-urlencoded; charset=utf-8", forHTTPHeaderField: "Content-Type")
    let day = String(formatRFC3339(Date()).prefix(10)).replacingOccurrences(of: "-", with: "")
    request.setValue(
      "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(day)/\(region)/ec2/aws4_request, SignedHeaders=host, Signature=0",
      forHTTPHeaderField: "Authorization")
    let (data, response, error) = HTTP.send(request)
    if let error {
      throw AWSError(message: "RequestError: send request failed\ncaused by: Post \"\(endpoint)\": \(error)")
    }
    let text = String(decoding: data ?? Data(), as: UTF8.self)
    let status = response?.statusCode ?? 0
    guard status == 200 else {
      let code = XML.first("Code", in: text) ?? "UnknownError"
      let message = XML.first("Message", in: text) ?? "HTTP \(status)"
      let requestID = XML.first("RequestID", in: text) ?? XML.first("RequestId", in: text) ?? ""
      throw AWSError(message: "\(code): \(message)\n\tstatus code: \(status), request id: \(requestID)")
    }
    return text
  }

  private func encode(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
  }

  func availabilityZones() throws(AWSError) -> [String] {
    XML.blocks("item", in: XML.first("availabilityZoneInfo", in: try call("DescribeAvailabilityZones")) ?? "")
      .compactMap { XML.first("zoneName", in: $0) }
  }

  /// The VPC's primary CIDR, nil when there is no such VPC.
  func vpcCIDR(_ vpcID: String) throws(AWSError) -> String? {
    let xml: String
    do {
      xml = try call("DescribeVpcs", [("VpcId.1", vpcID)])
    } catch {
      if error.message.hasPrefix("InvalidVpcID.NotFound") { return nil }
      throw error
    }
    let items = XML.blocks("item", in: XML.first("vpcSet", in: xml) ?? "")
    return items.first.flatMap { XML.first("cidrBlock", in: $0) }
  }

  /// The subnets of the VPC: id, CIDR and zone.
  func subnets(vpc: String) throws(AWSError) -> [(id: String, cidr: String, zone: String)] {
    let xml = try call("DescribeSubnets", [("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", vpc)])
    return XML.topLevelItems(in: XML.first("subnetSet", in: xml) ?? "").compactMap { item in
      guard let id = XML.first("subnetId", in: item) else { return nil }
      return (id, XML.first("cidrBlock", in: item) ?? "", XML.first("availabilityZone", in: item) ?? "")
    }
  }

  /// The internet gateways attached to the VPC (kops's shared-VPC `InternetGateway.Find`).
  func attachedInternetGateways(vpc: String) throws(AWSError) -> [String] {
    let xml = try call(
      "DescribeInternetGateways", [("Filter.1.Name", "attachment.vpc-id"), ("Filter.1.Value.1", vpc)])
    var found: [String] = []
    for gateway in XML.topLevelItems(in: XML.first("internetGatewaySet", in: xml) ?? "") {
      guard let id = XML.first("internetGatewayId", in: gateway) else { continue }
      let attachments = XML.blocks("item", in: XML.first("attachmentSet", in: gateway) ?? "")
      let attached = attachments.contains { a in
        XML.first("vpcId", in: a) == vpc && ["available", "attached"].contains(XML.first("state", in: a) ?? "")
      }
      if attached { found.append(id) }
    }
    return found
  }
}

/// A blocking HTTP round trip (fake-kops is a short-lived CLI; there is nothing else to do).
enum HTTP {
  final class Box: @unchecked Sendable {
    let lock = NSLock()
    var data: Data?
    var response: HTTPURLResponse?
    var error: String?
  }

  static func send(_ request: URLRequest) -> (Data?, HTTPURLResponse?, String?) {
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    let session = URLSession(configuration: .ephemeral)
    let task = session.dataTask(with: request) { data, response, error in
      box.lock.lock()
      box.data = data
      box.response = response as? HTTPURLResponse
      if let error { box.error = error.localizedDescription }
      box.lock.unlock()
      done.signal()
    }
    task.resume()
    if done.wait(timeout: .now() + 20) == .timedOut {
      task.cancel()
      return (nil, nil, "i/o timeout")
    }
    session.finishTasksAndInvalidate()
    box.lock.lock()
    defer { box.lock.unlock() }
    return (box.data, box.response, box.error)
  }
}

/// Just enough XML reading for EC2's fixed-shape responses (no attributes, no CDATA).
enum XML {
  /// The inner text of the first `<tag>…</tag>`.
  static func first(_ tag: String, in text: String) -> String? {
    guard let open = text.range(of: "<\(tag)>"), let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex) else {
      return nil
    }
    return unescape(String(text[open.upperBound..<close.lowerBound]))
  }

  /// The inner texts of every `<tag>…</tag>`, nested ones included, in document order.
  static func blocks(_ tag: String, in text: String) -> [String] {
    var out: [String] = []
    var search = text.startIndex..<text.endIndex
    while let open = text.range(of: "<\(tag)>", range: search) {
      guard let close = matchingClose(tag, in: text, from: open.upperBound) else { break }
      out.append(String(text[open.upperBound..<close.lowerBound]))
      search = open.upperBound..<text.endIndex
    }
    return out
  }

  /// The inner texts of the `<item>` elements directly inside `text`.
  static func topLevelItems(in text: String) -> [String] {
    var out: [String] = []
    var search = text.startIndex..<text.endIndex
    while let open = text.range(of: "<item>", range: search) {
      guard let close = matchingClose("item", in: text, from: open.upperBound) else { break }
      out.append(String(text[open.upperBound..<close.lowerBound]))
      search = close.upperBound..<text.endIndex
    }
    return out
  }

  /// The `</tag>` that closes the element opened just before `from`, counting nesting.
  static func matchingClose(_ tag: String, in text: String, from: String.Index) -> Range<String.Index>? {
    var depth = 1
    var position = from
    while position < text.endIndex {
      let nextOpen = text.range(of: "<\(tag)>", range: position..<text.endIndex)
      guard let nextClose = text.range(of: "</\(tag)>", range: position..<text.endIndex) else { return nil }
      if let o = nextOpen, o.lowerBound < nextClose.lowerBound {
        depth += 1
        position = o.upperBound
      } else {
        depth -= 1
        if depth == 0 { return nextClose }
        position = nextClose.upperBound
      }
    }
    return nil
  }

  static func unescape(_ s: String) -> String {
    s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
      .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
      .replacingOccurrences(of: "&amp;", with: "&")
  }
}
