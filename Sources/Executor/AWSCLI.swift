import Foundation
import Model
import Planner

/// One VPC attachment of an internet gateway, from `describe-internet-gateways`.
public struct IGWAttachment: Sendable, Hashable {
  /// The VPC id (`vpc-…`).
  public var vpcID: String
  /// EC2's attachment state: `available` (attached; what EC2 reports for IGWs), `attached`,
  /// `attaching`, `detaching`, `detached`.
  public var state: String

  public init(vpcID: String, state: String) {
    self.vpcID = vpcID
    self.state = state
  }

  /// The gateway is attached (or attaching) to the VPC.
  public var isAttached: Bool { state == "available" || state == "attached" || state == "attaching" }
}

/// The aws CLI for the internet-gateway bracket around `kops update --yes` (DESIGN.md §5).
///
/// Attach and detach are idempotent: attaching a gateway already attached to the VPC, and
/// detaching one that is not attached, succeed. Every call passes `--region`, `--profile` when
/// set, and `--output json`. The aws CLI reads `AWS_ENDPOINT_URL` itself (checked with aws-cli
/// 1.45), so tests point it at moto through the environment.
public struct AWSCLI: Sendable {
  /// The aws binary: a name looked up on `PATH` or a path.
  public var executable: String
  /// The AWS region (`--region`).
  public var region: String
  /// The named profile (`--profile`); `nil` uses the default credential chain.
  public var profile: String?
  /// Environment added to every call (on top of hk's own, which aws inherits).
  public var environment: [String: String]
  /// The time limit of each call.
  public var timeout: Duration
  /// What runs the commands.
  public var runner: any CommandRunner

  public init(
    executable: String, region: String, profile: String?, runner: any CommandRunner,
    environment: [String: String] = [:], timeout: Duration = .seconds(120)
  ) {
    self.executable = executable
    self.region = region
    self.profile = profile
    self.runner = runner
    self.environment = environment
    self.timeout = timeout
  }

  // MARK: Argv builders

  /// The full argv (executable first) for `arguments`.
  public func argv(_ arguments: [String]) -> [String] { [executable] + arguments }

  /// The single source of aws argv (shared with the planner).
  private var args: AWSArgv { AWSArgv(aws: executable, region: region, profile: profile) }

  /// `aws ec2 attach-internet-gateway --internet-gateway-id IGW --vpc-id VPC …`.
  public func attachArgs(_ igw: String, vpc: String) -> [String] { Array(args.attach(igw: igw, vpc: vpc).dropFirst()) }

  /// `aws ec2 detach-internet-gateway --internet-gateway-id IGW --vpc-id VPC …`.
  public func detachArgs(_ igw: String, vpc: String) -> [String] { Array(args.detach(igw: igw, vpc: vpc).dropFirst()) }

  /// `aws ec2 describe-internet-gateways --internet-gateway-ids IGW …`.
  public func describeArgs(_ igw: String) -> [String] { Array(args.describe(igw: igw).dropFirst()) }

  // MARK: Calls

  /// Attaches `igw` to `vpc`.
  ///
  /// Already attached to `vpc`: success. Attached to another VPC: throws
  /// ``AWSError/attachedElsewhere(igw:vpc:wanted:)``.
  /// - Throws: ``AWSError``, or the runner's launch errors.
  public func attachInternetGateway(_ igw: String, vpc: String) async throws {
    let arguments = attachArgs(igw, vpc: vpc)
    let result = try await run(arguments)
    if result.succeeded { return }
    let failure = AWSFailure(result)
    // EC2 answers Resource.AlreadyAssociated whether the gateway is attached here or elsewhere.
    guard failure.code == "Resource.AlreadyAssociated" else { throw AWSError.failed(argv(arguments), result) }
    let attachments = try await internetGatewayAttachments(igw).filter(\.isAttached)
    if attachments.contains(where: { $0.vpcID == vpc }) { return }
    if let other = attachments.first { throw AWSError.attachedElsewhere(igw: igw, vpc: other.vpcID, wanted: vpc) }
    throw AWSError.failed(argv(arguments), result)
  }

  /// Detaches `igw` from `vpc`. Not attached to `vpc` (`Gateway.NotAttached`): success.
  /// - Throws: ``AWSError``, or the runner's launch errors.
  public func detachInternetGateway(_ igw: String, vpc: String) async throws {
    let arguments = detachArgs(igw, vpc: vpc)
    let result = try await run(arguments)
    if result.succeeded { return }
    if AWSFailure(result).code == "Gateway.NotAttached" { return }
    throw AWSError.failed(argv(arguments), result)
  }

  /// The gateway's attachments (empty when detached).
  /// - Throws: ``AWSError`` (e.g. `InvalidInternetGatewayID.NotFound`), or launch errors.
  public func internetGatewayAttachments(_ igw: String) async throws -> [IGWAttachment] {
    let arguments = describeArgs(igw)
    let result = try await run(arguments)
    guard result.succeeded else { throw AWSError.failed(argv(arguments), result) }
    guard let attachments = Self.parseAttachments(result.stdout, igw: igw) else {
      throw AWSError.unexpectedOutput(argv(arguments), result.stdout)
    }
    return attachments
  }

  /// The attachments of `igw` in `describe-internet-gateways` JSON; `nil` when the JSON does
  /// not describe that gateway.
  public static func parseAttachments(_ json: String, igw: String) -> [IGWAttachment]? {
    guard let root = try? JSONValue.parse(json), let gateways = root["InternetGateways"]?.arrayValue else {
      return nil
    }
    guard let gateway = gateways.first(where: { $0["InternetGatewayId"]?.stringValue == igw }) else { return nil }
    return (gateway["Attachments"]?.arrayValue ?? []).compactMap { attachment in
      guard let vpc = attachment["VpcId"]?.stringValue else { return nil }
      return IGWAttachment(vpcID: vpc, state: attachment["State"]?.stringValue ?? "")
    }
  }

  /// Runs aws with `arguments`; any exit status is returned, not thrown.
  public func run(_ arguments: [String], onLine: (@Sendable (OutputLine) -> Void)? = nil) async throws -> CommandResult {
    // aws CLI v2 pipes output through a pager unless told not to.
    var env = ["AWS_PAGER": ""]
    env.merge(environment) { _, new in new }
    let invocation = CommandInvocation(executable, arguments, environment: env, timeout: timeout)
    do {
      return try await runner.run(invocation, onLine: onLine)
    } catch var error as ExecutableNotFoundError {
      error.hint = "install the AWS CLI or pass --aws PATH (or HK_AWS)"
      throw error
    }
  }
}

/// An aws CLI failure, parsed from `An error occurred (CODE) when calling the OP operation: MSG`.
struct AWSFailure {
  var code: String?
  var message: String?

  init(_ result: CommandResult) {
    let line = result.stderr.split(whereSeparator: \.isNewline).map { String($0).trimmingSpaces() }.last {
      !$0.isEmpty
    }
    message = line
    if let line, let open = line.range(of: "An error occurred ("),
      let close = line[open.upperBound...].firstIndex(of: ")")
    {
      code = String(line[open.upperBound..<close])
    }
  }
}

/// A failed aws call, with what to do next.
public enum AWSError: HKError, Hashable {
  /// The gateway is attached to `vpc`, not to `wanted` (the cluster's `spec.networkID`).
  case attachedElsewhere(igw: String, vpc: String, wanted: String)
  /// aws exited non-zero; the argv (executable first) and its result.
  case failed([String], CommandResult)
  /// aws succeeded but printed something hk cannot read; the argv and stdout.
  case unexpectedOutput([String], String)

  /// The EC2 error code (`InvalidVpcID.NotFound`, …) when aws reported one.
  public var code: String? {
    if case .failed(_, let result) = self { return AWSFailure(result).code }
    return nil
  }

  public var nextStep: String { NextStep.of(errorDescription ?? "", otherwise: "check the aws CLI and its credentials") }

  public var errorDescription: String? {
    switch self {
    case .attachedElsewhere(let igw, let vpc, let wanted):
      return "internet gateway \(igw) is attached to \(vpc), not to the cluster's VPC \(wanted); "
        + "check internetGateway.id in environment.yaml, or detach it from \(vpc) "
        + "(aws ec2 detach-internet-gateway --internet-gateway-id \(igw) --vpc-id \(vpc)) if nothing there needs it"
    case .failed(let argv, let result):
      let operation = argv.dropFirst().prefix(2).joined(separator: " ")
      let failure = AWSFailure(result)
      let detail = failure.message.map { ": " + Redaction.redact(text: $0) } ?? ""
      return "aws \(operation) failed (\(result.statusDescription))\(detail); \(Self.nextStep(failure, result))"
    case .unexpectedOutput(let argv, let stdout):
      let operation = argv.dropFirst().prefix(2).joined(separator: " ")
      return "aws \(operation) printed output hk cannot read (\"\(stdout.trimmingSpaces().prefix(200))\"); "
        + "check that --aws points at the AWS CLI"
    }
  }

  private static func nextStep(_ failure: AWSFailure, _ result: CommandResult) -> String {
    if result.timedOut {
      return "the AWS API did not answer in time; check network access to EC2 (HTTPS_PROXY/NO_PROXY)"
    }
    if result.cancelled { return "the call was interrupted; re-run hk to finish it" }
    let message = failure.message ?? ""
    switch failure.code {
    case "InvalidInternetGatewayID.NotFound", "InvalidInternetGatewayId.NotFound":
      return
        "check internetGateway.id in environment.yaml and that aws.region/profile point at the account that owns it"
    case "InvalidVpcID.NotFound":
      return "check spec.networkID in the cluster manifest and aws.region/profile in environment.yaml"
    case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException":
      return "grant the credentials ec2:AttachInternetGateway, ec2:DetachInternetGateway and "
        + "ec2:DescribeInternetGateways"
    case "DependencyViolation":
      return "something in the VPC still uses the gateway (public IPs, Elastic IPs); release it, then re-run hk"
    case "AuthFailure", "InvalidClientTokenId", "ExpiredToken", "RequestExpired", "SignatureDoesNotMatch":
      return "refresh the AWS credentials (aws.profile in environment.yaml, AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    default:
      break
    }
    if message.contains("Unable to locate credentials") || message.contains("could not be found")
      || message.contains("credentials")
    {
      return "configure AWS credentials (aws.profile in environment.yaml, AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    }
    if message.contains("Could not connect") || message.contains("Connect timeout") {
      return "check network access to the EC2 endpoint (HTTPS_PROXY/NO_PROXY)"
    }
    return "run the aws command by hand for details"
  }
}
