import Executor
import Foundation
import Model
import Planner
import Testing

/// KopsCLI and AWSCLI: behaviour over a RecordingRunner, AWSCLI's exact argv, and AWSCLI against
/// a real moto_server driven by the real aws CLI (AdapterTests+Moto.swift; kops argv: `KopsArgvTests`).
struct AdapterTests {
  // MARK: kops over a recording runner

  @Test func kopsVersionRunsShortAndParses() async throws {
    let runner = RecordingRunner(table: [(["version"], CommandResult(stdout: "Client version: 1.28.4 (git-v1.28.4)\n"))]
    )
    let kops = KopsCLI(
      executable: "kops", stateStore: "s3://s", cluster: "c", runner: runner,
      environment: ["HTTPS_PROXY": "http://p:3128"])
    #expect(try await kops.version() == KopsVersion(1, 28, 4))
    let invocation = try #require(await runner.invocations.first)
    #expect(invocation.argv == ["kops", "version", "--short"])
    #expect(invocation.environment == ["HTTPS_PROXY": "http://p:3128"])
  }

  @Test func kopsVersionWithoutANumberIsAnError() async throws {
    let kops = KopsCLI(
      executable: "kops", stateStore: "s3://s", cluster: "c", runner: RecordingRunner { _ in .init(stdout: "hello\n") })
    let error = await #expect(throws: KopsVersionError.self) { try await kops.version() }
    #expect(error?.errorDescription?.contains("check that kops is the kops CLI") == true)
  }

  @Test func kopsFailureCarriesTheErrorLineAndANextStep() async throws {
    let runner = RecordingRunner { _ in
      CommandResult(exitCode: 1, stderr: "I0101 x\nError: cluster not found \"dev.k8s.corp.local\"\n")
    }
    let kops = KopsCLI(executable: "kops", stateStore: "s3://s", cluster: "dev.k8s.corp.local", runner: runner)
    let error = await #expect(throws: KopsCommandError.self) {
      try await kops.runChecked(KopsArgvTests.args(KopsArgvTests.kops.getCluster()))
    }
    let message = try #require(error?.errorDescription)
    #expect(message.hasPrefix("kops get cluster failed (exit 1): Error: cluster not found \"dev.k8s.corp.local\";"))
    #expect(message.contains("stateStore"))
  }

  @Test func kopsRunMergesEnvironmentAndReturnsNonZeroResults() async throws {
    let runner = RecordingRunner { _ in CommandResult(exitCode: 1, stdout: "{\"failures\":[{\"type\":\"Node\"}]}") }
    let kops = KopsCLI(
      executable: "kops", stateStore: "s3://s", cluster: "c", runner: runner,
      environment: ["A": "1", "KUBECONFIG": "x"])
    let result = try await kops.run(
      KopsArgvTests.args(KopsArgvTests.kops.validate()), environment: ["KUBECONFIG": "/tmp/k"], timeout: .seconds(5))
    #expect(result.exitCode == 1)
    #expect(KopsOutput.parseValidate(result.stdout)?.healthy == false)
    let invocation = try #require(await runner.invocations.first)
    #expect(invocation.environment == ["A": "1", "KUBECONFIG": "/tmp/k"])
    #expect(invocation.timeout == .seconds(5))
  }

  /// Concurrent askers of one binary's version share one `kops version` call; another binary
  /// is asked on its own; an error is shared like an answer.
  @Test func kopsVersionsAreAskedOncePerBinary() async throws {
    let versions = KopsVersions()
    let asked = Calls()
    let answers = try await withThrowingTaskGroup(of: KopsVersion.self) { group in
      for i in 0..<20 {
        let binary = i % 4 == 3 ? "/opt/kops-1.23" : "/usr/bin/kops"
        group.addTask {
          try await versions.version(of: binary) {
            await asked.add(binary)
            try await Task.sleep(for: .milliseconds(50))
            return binary.hasSuffix("1.23") ? KopsVersion(1, 23, 4) : KopsVersion(1, 28, 4)
          }
        }
      }
      var out: [KopsVersion] = []
      for try await v in group { out.append(v) }
      return out
    }
    #expect(answers.count == 20)
    #expect(answers.filter { $0 == KopsVersion(1, 23, 4) }.count == 5)
    #expect(await asked.list.sorted() == ["/opt/kops-1.23", "/usr/bin/kops"])

    struct Broken: Error {}
    for _ in 0..<2 {
      await #expect(throws: Broken.self) {
        try await versions.version(of: "/missing/kops") {
          await asked.add("/missing/kops")
          throw Broken()
        }
      }
    }
    #expect(await asked.list.filter { $0 == "/missing/kops" }.count == 1)
  }

  /// The live read (used by apply's pre-flight and by drift): two calls before kops 1.26, one
  /// `get all` from 1.26; documents split and parsed; a missing cluster is nil, not an error.
  @Test func liveReaderUsesTwoCallsBefore126() async throws {
    let table: [String: CommandResult] = [
      "get cluster": CommandResult(stdout: "kind: Cluster\nmetadata: {name: c}\n"),
      "get instancegroups": CommandResult(
        stdout: "kind: InstanceGroup\nmetadata: {name: a}\n\n---\n\nkind: InstanceGroup\nmetadata: {name: b}\n"),
      "get all": CommandResult(stdout: "kind: Cluster\nmetadata: {name: c}\n\n---\n\nkind: InstanceGroup\nmetadata: {name: a}\n"),
    ]
    let argv = KopsArgv(kops: "kops", cluster: "c", stateStore: "s3://s")
    for (version, calls, groups) in [
      (KopsVersion(1, 25, 0), ["get cluster", "get instancegroups"], ["a", "b"]), (KopsVersion(1, 28, 0), ["get all"], ["a"]),
    ] {
      let made = Calls()
      let read = await LiveReader(argv: argv, version: version).read { call in
        let key = call.dropFirst().prefix(2).joined(separator: " ")
        await made.add(key)
        return (table[key], nil)
      }
      let live = try read.get()
      #expect(live.cluster?[path: "metadata", "name"]?.text == "c")
      #expect(live.instanceGroups.compactMap { $0[path: "metadata", "name"]?.text } == groups)
      #expect(await made.list == calls)
    }
  }

  @Test func liveReaderRefusesTruncatedOrUnreadableOutputAndTakesMissingAsEmpty() async throws {
    let reader = LiveReader(argv: KopsArgv(kops: "kops", cluster: "c", stateStore: "s3://s"), version: KopsVersion(1, 28, 0))
    let truncated = await reader.read { _ in (CommandResult(stdout: "kind: Cluster\n", truncated: true), nil) }
    #expect(throws: LiveReader.Failure.self) { try truncated.get() }
    let garbage = await reader.read { _ in (CommandResult(stdout: "kind: [unclosed\n"), nil) }
    #expect(throws: LiveReader.Failure.self) { try garbage.get() }
    let missing = await reader.read { _ in
      (CommandResult(exitCode: 1, stderr: "Error: cluster not found \"c\"\n"), nil)
    }
    #expect(try missing.get().cluster == nil)
    let failed = await reader.read { _ in (CommandResult(exitCode: 1, stderr: "Error: access denied\n"), nil) }
    #expect(throws: LiveReader.Failure.self) { try failed.get() }
  }

  @Test func missingKopsSaysHowToPointAtIt() async throws {
    let kops = KopsCLI(
      executable: "/nonexistent/kops-1.28", stateStore: "s3://s", cluster: "c", runner: SubprocessRunner())
    let error = await #expect(throws: ExecutableNotFoundError.self) { try await kops.version() }
    let message = try #require(error?.errorDescription)
    #expect(message.hasPrefix("kops-1.28 not found at /nonexistent/kops-1.28;"))
    #expect(message.contains("--kops"))
    #expect(message.contains("--kops-map"))
  }

  // MARK: aws argv and logic over a recording runner

  @Test func awsArgvBuildersAreExact() {
    let aws = AWSCLI(
      executable: "aws", region: "ap-northeast-1", profile: "corp-dev", runner: RecordingRunner { _ in .init() })
    #expect(
      aws.attachArgs("igw-0abc", vpc: "vpc-1")
        == [
          "ec2", "attach-internet-gateway", "--internet-gateway-id=igw-0abc", "--vpc-id=vpc-1", "--region=ap-northeast-1",
          "--profile=corp-dev", "--output=json",
        ])
    #expect(
      aws.detachArgs("igw-0abc", vpc: "vpc-1")
        == [
          "ec2", "detach-internet-gateway", "--internet-gateway-id=igw-0abc", "--vpc-id=vpc-1", "--region=ap-northeast-1",
          "--profile=corp-dev", "--output=json",
        ])
    let noProfile = AWSCLI(
      executable: "aws", region: "us-east-1", profile: nil, runner: RecordingRunner { _ in .init() })
    #expect(
      noProfile.describeArgs("igw-0abc")
        == [
          "ec2", "describe-internet-gateways", "--internet-gateway-ids=igw-0abc", "--region=us-east-1", "--output=json",
        ])
  }

  @Test func attachAlreadyAssociatedHereIsSuccess() async throws {
    let runner = RecordingRunner(table: [
      (
        ["ec2", "attach-internet-gateway"],
        CommandResult(
          exitCode: 255,
          stderr:
            "\nAn error occurred (Resource.AlreadyAssociated) when calling the AttachInternetGateway operation: resource igw-1 is already attached to network vpc-1\n"
        )
      ),
      (
        ["ec2", "describe-internet-gateways"],
        CommandResult(
          stdout:
            #"{"InternetGateways":[{"Attachments":[{"State":"available","VpcId":"vpc-1"}],"InternetGatewayId":"igw-1"}]}"#
        )
      ),
    ])
    let aws = AWSCLI(executable: "aws", region: "r", profile: nil, runner: runner)
    try await aws.attachInternetGateway("igw-1", vpc: "vpc-1")
    #expect(await runner.argumentLists.map { $0[1] } == ["attach-internet-gateway", "describe-internet-gateways"])
    #expect(await runner.invocations.first?.environment["AWS_PAGER"] == "")
  }

  @Test func detachNotAttachedIsSuccessButOtherErrorsAreNot() async throws {
    let notAttached = RecordingRunner { _ in
      CommandResult(
        exitCode: 255,
        stderr:
          "An error occurred (Gateway.NotAttached) when calling the DetachInternetGateway operation: not attached\n")
    }
    try await AWSCLI(executable: "aws", region: "r", profile: nil, runner: notAttached).detachInternetGateway(
      "igw-1", vpc: "vpc-1")

    let denied = RecordingRunner { _ in
      CommandResult(
        exitCode: 254,
        stderr:
          "An error occurred (UnauthorizedOperation) when calling the DetachInternetGateway operation: You are not authorized to perform this operation.\n"
      )
    }
    let error = await #expect(throws: AWSError.self) {
      try await AWSCLI(executable: "aws", region: "r", profile: nil, runner: denied).detachInternetGateway(
        "igw-1", vpc: "vpc-1")
    }
    #expect(error?.code == "UnauthorizedOperation")
    #expect(error?.errorDescription?.contains("ec2:DetachInternetGateway") == true)
    #expect(
      error?.errorDescription?.hasPrefix(
        "aws ec2 detach-internet-gateway failed (exit 254): An error occurred (UnauthorizedOperation)") == true)
  }

  @Test func missingAwsSaysHowToPointAtIt() async throws {
    let aws = AWSCLI(executable: "hk-no-such-aws-4711", region: "r", profile: nil, runner: SubprocessRunner())
    let error = await #expect(throws: ExecutableNotFoundError.self) {
      try await aws.internetGatewayAttachments("igw-1")
    }
    #expect(error?.errorDescription?.contains("--aws") == true)
  }

  @Test func parsesDescribeOutput() {
    let json = """
      {"InternetGateways": [{"Attachments": [{"State": "available", "VpcId": "vpc-1"}, {"State": "detaching", "VpcId": "vpc-2"}],
        "InternetGatewayId": "igw-1", "OwnerId": "123456789012", "Tags": []}]}
      """
    let attachments = AWSCLI.parseAttachments(json, igw: "igw-1")
    #expect(
      attachments == [
        IGWAttachment(vpcID: "vpc-1", state: "available"), IGWAttachment(vpcID: "vpc-2", state: "detaching"),
      ])
    #expect(attachments?.map(\.isAttached) == [true, false])
    #expect(AWSCLI.parseAttachments(json, igw: "igw-2") == nil)
    #expect(AWSCLI.parseAttachments("not json", igw: "igw-1") == nil)
  }
}

/// The calls a closure-driven reader made, in order.
actor Calls {
  var list: [String] = []
  func add(_ s: String) { list.append(s) }
}
