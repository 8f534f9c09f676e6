import Foundation

// fake-kops: a kops CLI test double, faithful to shared/kops-contract.md. It is run as a separate
// process by hk's executor and end-to-end tests. See `FakeKops` for the environment variables and
// the file layout it uses.
signal(SIGPIPE, SIG_IGN)
let status = FakeKops.main(arguments: Array(CommandLine.arguments.dropFirst()))
exit(status)
