import Executor
import Foundation
import HKTestSupport
import Model
import Testing

extension AdapterTests {
  /// The IGW bracket against a real moto_server, driven by the real aws CLI.
  @Suite struct Moto {
    /// The AWS adapter over the real aws CLI, pointed at `moto`.
    static func cli(_ moto: MotoServer) -> AWSCLI {
      AWSCLI(executable: "aws", region: moto.region, profile: nil, runner: SubprocessRunner(), environment: moto.environment)
    }

    @Test func attachAndDetachAreIdempotent() async throws {
      let moto = try MotoServer(region: "us-east-1")
      let vpc = try moto.createVPC(cidr: "10.0.0.0/16")
      let otherVPC = try moto.createVPC(cidr: "10.1.0.0/16")
      let igw = try moto.createInternetGateway()
      let aws = Self.cli(moto)

      #expect(try await aws.internetGatewayAttachments(igw).isEmpty)
      try await aws.attachInternetGateway(igw, vpc: vpc)
      #expect(try await aws.internetGatewayAttachments(igw).map(\.vpcID) == [vpc])
      #expect(try await aws.internetGatewayAttachments(igw).allSatisfy(\.isAttached))

      // Attaching again to the same VPC succeeds.
      try await aws.attachInternetGateway(igw, vpc: vpc)

      // Attaching to another VPC names the VPC it is attached to.
      let error = await #expect(throws: AWSError.self) { try await aws.attachInternetGateway(igw, vpc: otherVPC) }
      #expect(error == .attachedElsewhere(igw: igw, vpc: vpc, wanted: otherVPC))
      #expect(error?.errorDescription?.contains("is attached to \(vpc), not to the cluster's VPC \(otherVPC)") == true)

      try await aws.detachInternetGateway(igw, vpc: vpc)
      #expect(try await aws.internetGatewayAttachments(igw).isEmpty)
      // Detaching again succeeds.
      try await aws.detachInternetGateway(igw, vpc: vpc)
      #expect(try await aws.internetGatewayAttachments(igw).isEmpty)
      moto.stop()
    }

    @Test func unknownGatewayAndVPCAreExplained() async throws {
      let moto = try MotoServer(region: "us-east-1")
      let vpc = try moto.createVPC(cidr: "10.2.0.0/16")
      let igw = try moto.createInternetGateway()
      let aws = Self.cli(moto)

      let missingIGW = await #expect(throws: AWSError.self) {
        try await aws.internetGatewayAttachments("igw-0123456789abcdef0")
      }
      #expect(missingIGW?.code == "InvalidInternetGatewayID.NotFound")
      #expect(missingIGW?.errorDescription?.contains("internetGateway.id") == true)

      let missingVPC = await #expect(throws: AWSError.self) {
        try await aws.attachInternetGateway(igw, vpc: "vpc-0123456789abcdef0")
      }
      #expect(missingVPC?.code == "InvalidVpcID.NotFound")
      #expect(missingVPC?.errorDescription?.contains("spec.networkID") == true)

      // Nothing was attached by the failed calls.
      try await aws.detachInternetGateway(igw, vpc: vpc)
      #expect(try await aws.internetGatewayAttachments(igw).isEmpty)
      moto.stop()
    }
  }
}
