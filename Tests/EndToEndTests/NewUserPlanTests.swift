import Foundation
import HKTestSupport
import Model
import Testing

/// What a new platform engineer meets first (issue 16): plans that list broken environments,
/// the AWS variables kops gets, options where people type them.
@Suite struct NewUserPlanTests {
  typealias Repo = PlanCommandTests.Repo

  /// A YAML error in `dev` must not leave a pull-request comment that looks clean: text,
  /// markdown and JSON list `dev` with its error and count it; the exit code stays 1.
  @Test func planListsEnvironmentsThatFailedToLoad() throws {
    let repo = try Repo()
    let path = repo.root + "/environments/dev/cluster.yaml"
    try (String(contentsOfFile: path, encoding: .utf8) + "  broken: [\n").write(toFile: path, atomically: true, encoding: .utf8)
    let text = try repo.hk(["plan"])
    #expect(text.exitCode == 1)
    #expect(text.stdout.contains("Environment dev: not planned (1 error)"), "\(text)")
    #expect(text.stdout.contains("environments/dev/cluster.yaml:"), "\(text)")
    #expect(text.stdout.contains("1 environment has errors and was not planned: dev."), "\(text)")

    let md = try repo.hk(["plan", "--format", "markdown"])
    #expect(md.exitCode == 1)
    #expect(md.stdout.contains("1 environment has errors and was not planned: dev."), "\(md)")
    #expect(md.stdout.contains("- `dev` (1 error):"), "\(md)")
    #expect(md.stdout.contains("error: YAML syntax"), "\(md)")

    let json = try repo.hk(["plan", "--format", "json"])
    #expect(json.exitCode == 1)
    let plan = try JSONValue.parse(json.stdout)
    let errors = plan["errors"]?.arrayValue ?? []
    #expect(errors.count == 1)
    #expect(errors.first?["name"] == .string("dev"))
    #expect(errors.first?["status"] == .string("error"))
    let diagnostic = errors.first?["diagnostics"]?.arrayValue?.first
    #expect(diagnostic?["file"] == .string("environments/dev/cluster.yaml"))
    #expect(diagnostic?["severity"] == .string("error"))
    #expect(plan["summary"]?["environments_with_errors"] == .int(1))
    #expect(plan["environments"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["prod", "staging"])
  }

  /// A validation error is listed the same way.
  @Test func planListsValidationErrors() throws {
    let repo = try Repo()
    try repo.edit(
      "environments/_base/cluster.yaml", "      type: Internal            # no IGW: a public load balancer cannot work",
      "      type: Public")
    let json = try repo.hk(["plan", "--format", "json", "dev", "prod"])
    #expect(json.exitCode == 1)
    let plan = try JSONValue.parse(json.stdout)
    let names = (plan["errors"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    #expect(names.contains("dev"), "\(json)")
    let md = try repo.hk(["plan", "--format", "markdown", "dev"])
    #expect(md.stdout.contains("No plan. 1 environment has errors and was not planned: dev."), "\(md)")
    #expect(md.stdout.contains("spec.api.loadBalancer.type Public cannot work"), "\(md)")
  }

  /// The step list says which AWS profile and region kops runs with.
  @Test func planSaysWhichAWSProfileKopsGets() throws {
    let repo = try Repo()
    let r = try repo.hk(["plan", "dev"])
    #expect(r.stdout.contains("kops runs with AWS_DEFAULT_REGION=ap-northeast-1 AWS_PROFILE=corp-dev AWS_REGION=ap-northeast-1"), "\(r)")
    let json = try JSONValue.parse(try repo.hk(["plan", "dev", "--format", "json"]).stdout)
    let vars = json["environments"]?.arrayValue?.first?["kops_environment"]
    #expect(vars?["AWS_PROFILE"] == .string("corp-dev"))
    #expect(vars?["AWS_REGION"] == .string("ap-northeast-1"))
    #expect(vars?["AWS_DEFAULT_REGION"] == .string("ap-northeast-1"))
  }
}

/// `hk validate` on a copy of `dev` named `qa` that still holds dev's configBase, DNS zone,
/// VPC, subnets and gateway.
@Suite struct CopiedEnvironmentTests {
  /// The samples with `dev` copied as `qa`: renamed (cluster, state store, Cluster name) but
  /// still holding dev's configBase and DNS zone (errors) and its VPC, subnets and gateway.
  static func repositoryWithACopy() throws -> PlanCommandTests.Repo {
    let repo = try PlanCommandTests.Repo()
    try FileManager.default.copyItem(atPath: repo.root + "/environments/dev", toPath: repo.root + "/environments/qa")
    try repo.edit("environments/qa/environment.yaml", "cluster: dev.k8s.corp.local", "cluster: qa.k8s.corp.local")
    try repo.edit("environments/qa/environment.yaml", "corp-kops-state-dev", "corp-kops-state-qa")
    try repo.edit("environments/qa/cluster.yaml", "  name: dev.k8s.corp.local", "  name: qa.k8s.corp.local")
    return repo
  }

  @Test func aCopiedEnvironmentIsCaught() throws {
    let repo = try Self.repositoryWithACopy()
    let r = try repo.hk(["validate"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stdout.contains("error: spec.configBase 's3://corp-kops-state-dev/dev.k8s.corp.local' is not stateStore"), "\(r)")
    #expect(r.stdout.contains("error: cluster 'qa.k8s.corp.local' is not within spec.dnsZone 'dev.k8s.corp.local'"), "\(r)")
    #expect(r.stdout.contains("warning: VPC (spec.networkID) vpc-0a11d2e3f4a5b6c7d is also used by qa"), "\(r)")
    #expect(r.stdout.contains("warning: VPC (spec.networkID) vpc-0a11d2e3f4a5b6c7d is also used by dev"), "\(r)")
    #expect(r.stdout.contains("subnet (spec.subnets[name=private-ap-northeast-1a].id)"), "\(r)")
    #expect(r.stdout.contains("warning: internet gateway (internetGateway.id) igw-0a1b2c3d4e5f60718 is also used by"), "\(r)")
    // The samples alone share nothing.
    try FileManager.default.removeItem(atPath: repo.root + "/environments/qa")
    let clean = try repo.hk(["validate"])
    #expect(clean.exitCode == 0 && !clean.stdout.contains("shared") && !clean.stdout.contains("also used by"), "\(clean)")
  }

  /// `egressProxy: null` with strategy temporary is an error unless the environment says why.
  @Test func noProxyAndNoGatewayIsAnError() throws {
    let repo = try PlanCommandTests.Repo()
    try repo.edit(
      "environments/dev/cluster.yaml",
      "  egressProxy:\n    excludes: \"corp.local,10.10.0.0/16,169.254.169.254,s3.ap-northeast-1.amazonaws.com,ecr.ap-northeast-1.amazonaws.com\"\n",
      "  egressProxy: null\n")
    let r = try repo.hk(["validate", "dev"])
    #expect(r.exitCode == 1, "\(r)")
    #expect(r.stdout.contains("error: spec.egressProxy is"), "\(r)")
    let path = repo.root + "/environments/dev/environment.yaml"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    try (text + "egress: {withoutProxy: \"VPC endpoints for ECR, S3 and STS; images mirrored in the corporate registry\"}\n")
      .write(toFile: path, atomically: true, encoding: .utf8)
    let ok = try repo.hk(["validate", "dev"])
    #expect(ok.exitCode == 0, "\(ok)")
  }
}

/// The command line as people type it.
@Suite struct CommandLineTests {
  @Test func globalOptionsWorkBeforeTheCommand() throws {
    let repo = try PlanCommandTests.Repo()
    let db = repo.dir.path + "/elsewhere.sqlite"
    let r = try runProcess(
      repo.hk, ["--state-db", db, "--no-color", "--root=" + repo.root, "plan", "dev"], env: repo.env, cwd: repo.dir.path, timeout: 60)
    #expect(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("Environment dev (dev.k8s.corp.local; nothing recorded yet)"), "\(r)")
    let nested = try runProcess(
      repo.hk, ["--root", repo.root, "--state-db", db, "state", "list"], env: repo.env, cwd: repo.dir.path, timeout: 60)
    #expect(nested.exitCode == 0, "\(nested)")
    let help = try runProcess(repo.hk, ["--help"], env: repo.env, cwd: repo.dir.path, timeout: 60)
    for option in ["--root DIR", "--state-db LOCATION", "--kops PATH", "--kops-map V=PATH", "--aws PATH", "--no-color"] {
      #expect(help.stdout.contains(option), "\(help)")
    }
  }

  @Test func aMisspeltCommandGetsASuggestion() throws {
    let repo = try PlanCommandTests.Repo()
    let r = try repo.hk(["plna"])
    #expect(r.exitCode == 64, "\(r)")
    #expect(r.stderr.contains("did you mean 'plan'?"), "\(r)")
    let far = try repo.hk(["xyzzy"])
    #expect(far.exitCode == 64, "\(far)")
  }

  /// Help text is wrapped once, by the terminal width (no hard line breaks inside a paragraph).
  @Test func helpIsWrappedOnce() throws {
    let repo = try PlanCommandTests.Repo()
    var env = repo.env
    env["COLUMNS"] = "400"
    let drift = try runProcess(repo.hk, ["drift", "--help"], env: env, cwd: repo.dir.path, timeout: 60)
    #expect(
      drift.stdout.contains(
        "Reads the live Cluster and InstanceGroups through kops (after checking 'kops version' against kopsVersion) and,"),
      "\(drift)")
    let apply = try runProcess(repo.hk, ["apply", "--help"], env: env, cwd: repo.dir.path, timeout: 60)
    #expect(apply.stdout.contains("refuses (saying what differs) unless the re-plan's plan_digest equals the reviewed one"), "\(apply)")
    #expect(apply.stdout.contains("--changed-since") && apply.stdout.contains("--adopt"), "\(apply)")
  }
}
