import Config
import Foundation
import Model
import Planner

/// A failure to read an environment's live side, phrased with what to do next.
public struct LiveAccessError: HKError, Hashable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var errorDescription: String? { message }
  public var nextStep: String { NextStep.of(message, otherwise: "check kops, aws and the environment's settings") }
}

/// Reads one environment's live side, read-only: checks `kops version --short` against
/// `kopsVersion` (DESIGN.md §5), reads the Cluster and InstanceGroups through kops
/// (``LiveReader``), and for strategy `temporary` the gateway's attachments through aws.
///
/// Shared by `hk drift` and `hk import`. Never writes anything.
public struct LiveAccess: Sendable {
  /// What runs kops and aws.
  public var runner: any CommandRunner
  /// The kops binary for this environment (its `kopsPath`, else `--kops`/`HK_KOPS`/`kops`).
  public var kops: String
  /// The aws binary (`--aws`/`HK_AWS`/`aws`).
  public var aws: String
  public var env: Environment
  /// Variables added to every kops/aws call (on top of hk's own environment).
  public var environment: [String: String]

  public init(runner: any CommandRunner, kops: String, aws: String, env: Environment, environment: [String: String] = [:]) {
    self.runner = runner
    self.kops = kops
    self.aws = aws
    self.env = env
    self.environment = environment
  }

  var settings: EnvironmentSettings { env.settings }
  /// What every kops call gets: ``environment`` with the environment's AWS profile and region
  /// on top (``EnvironmentSettings/kopsEnvironment``).
  var kopsEnvironment: [String: String] { environment.merging(settings.kopsVariables) { _, own in own } }
  var kopsCLI: KopsCLI {
    KopsCLI(executable: kops, stateStore: settings.stateStore, cluster: settings.cluster, runner: runner, environment: kopsEnvironment)
  }

  /// What to do when this environment's kops is missing or fails to start.
  public var installAdvice: String {
    "install kops \(settings.kopsVersion) and pass --kops-map \(settings.kopsVersion)=PATH, --kops or HK_KOPS"
  }

  /// The kops binary's version, refused unless it equals `kopsVersion` (patch included).
  ///
  /// - Parameter versions: when given, one `kops version` per binary for the whole run (many
  ///   environments share a kops binary, and its version does not change while hk runs).
  /// - Returns: The version `kops version --short` printed.
  /// - Throws: ``LiveAccessError`` when kops cannot run or its major.minor differs, saying which
  ///   binary to use.
  public func checkedVersion(sharing versions: KopsVersions? = nil) async throws(LiveAccessError) -> KopsVersion {
    let version: KopsVersion
    do {
      let cli = kopsCLI
      if let versions {
        version = try await versions.version(of: kops) { try await cli.version() }
      } else {
        version = try await cli.version()
      }
    } catch var missing as ExecutableNotFoundError {
      // Its own text names the PATH searched; the advice is said once, for this environment.
      missing.hint = installAdvice
      throw LiveAccessError(missing.localizedDescription)
    } catch {
      throw LiveAccessError("cannot run '\(kops) version --short': \(error.localizedDescription); " + installAdvice)
    }
    // The whole version, patch included: every kops release ships a different nodeup, so a
    // different binary rewrites every launch template (DESIGN.md §5).
    guard settings.kopsCapabilities.acceptsBinary(version) else {
      throw LiveAccessError(
        "kops \(version) does not match the environment's kopsVersion \(settings.kopsVersion) (the whole version must match: "
          + "every kops release ships a different nodeup and rewrites every launch template); use a kops \(settings.kopsVersion) "
          + "binary (--kops-map, --kops, HK_KOPS_MAP or HK_KOPS), or change kopsVersion on purpose (a planned kops upgrade)")
    }
    return version
  }

  /// The live Cluster and InstanceGroups (`cluster == nil` when the state store has none).
  public func readObjects(version: KopsVersion) async throws(LiveAccessError) -> LiveObjects {
    let reader = LiveReader(argv: KopsArgv(kops: kops, cluster: settings.cluster, stateStore: settings.stateStore), version: version)
    let runner = self.runner
    let environment = kopsEnvironment
    let result = await reader.read { argv in
      guard let executable = argv.first else { return (nil, "empty command") }
      let invocation = CommandInvocation(executable, Array(argv.dropFirst()), environment: environment, timeout: .seconds(300))
      do {
        return (try await runner.run(invocation), nil)
      } catch {
        return (nil, error.localizedDescription)
      }
    }
    switch result {
    case .success(let objects): return objects
    case .failure(let failure):
      throw LiveAccessError(
        Redaction.redact(text: failure.description) + "; check stateStore in \(env.settingsFile) and the credentials for it")
    }
  }

  /// The VPCs the internet gateway is attached (or attaching) to; nil when the strategy is not
  /// `temporary` (no gateway id to ask about, and `none` makes no aws call at all).
  public func gatewayAttachments() async throws(LiveAccessError) -> [String]? {
    guard settings.igwStrategy == .temporary, let id = settings.igwID else { return nil }
    let cli = AWSCLI(
      executable: aws, region: settings.region, profile: settings.profile, runner: runner, environment: environment)
    do {
      return try await cli.internetGatewayAttachments(id).filter(\.isAttached).map(\.vpcID)
    } catch {
      throw LiveAccessError("cannot read internet gateway \(id): \(error.localizedDescription)")
    }
  }
}
