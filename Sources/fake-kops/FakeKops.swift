import Foundation
import Model

/// fake-kops: a kops CLI double for hk's tests, faithful to `shared/kops-contract.md` (and to
/// the kops sources it cites) in flags, stdout/stderr split, exit codes and messages.
///
/// Environment:
/// - `FAKE_KOPS_VERSION` (default `1.28.4`): the kops version imitated; version-dependent
///   behaviour follows it.
/// - `KOPS_STATE_STORE` / `--state`: `file:///abs`, a plain path, or `s3://bucket/prefix`
///   mapped to `$FAKE_KOPS_S3_ROOT/bucket/prefix` (the bucket directory must exist).
/// - `AWS_ENDPOINT_URL` (+ `AWS_ACCESS_KEY_ID`): the EC2 API (moto) that cluster create/replace,
///   update, rolling-update, validate, export and delete-ig query, as kops does.
/// - `KUBECONFIG` / `$HOME/.kube/config`: read for the kubectl-context fallback and the
///   ≤ 1.30 context requirement; written by `update --yes` (unless `--create-kube-config=false`)
///   and by `export kubeconfig`.
/// - `FAKE_KOPS_TASK_DEADLINE` (seconds, default 2; real kops: 600) and `FAKE_KOPS_TASK_RETRY`
///   (seconds between retries, default a quarter of the deadline; real kops: 10).
/// - `FAKE_KOPS_UNHEALTHY`: `1`/`true`/`always` → validate reports failures; `rounds:N` → the
///   first N validation rounds fail, later ones pass. `FAKE_KOPS_VALIDATE_INTERVAL` (seconds,
///   default 10) is `validate --wait`'s poll interval before kops had `--interval`.
/// - `FAKE_KOPS_LOG`, `FAKE_KOPS_COUNTERS`, `FAKE_KOPS_FAIL`, `FAKE_KOPS_EXIT255`,
///   `FAKE_KOPS_HANG`, `FAKE_KOPS_SLEEP`, `FAKE_KOPS_GARBAGE=get`: see ``InvocationLog`` and
///   ``Faults``.
enum FakeKops {
  static func main(arguments: [String]) -> Int32 {
    let env = ProcessInfo.processInfo.environment
    let cwd = FileManager.default.currentDirectoryPath
    let log = InvocationLog(path: env["FAKE_KOPS_LOG"], argv: arguments, env: env, cwd: cwd)
    log.start()
    let versionText = (env["FAKE_KOPS_VERSION"] ?? "1.28.4").trimmingSpaces()
    guard let version = KopsVersion(versionText), version.major == 1 else {
      Console.err("fake-kops: FAKE_KOPS_VERSION=\(goQuote(versionText)) is not a kops version such as 1.28.4\n")
      log.end(2)
      return 2
    }
    let rt = Runtime(env: env, version: version, versionText: versionText, cwd: cwd)
    if let s = env["FAKE_KOPS_SLEEP"], let seconds = Double(s.trimmingSpaces()) { sleepSeconds(seconds) }

    let root = CommandTree.build(rt)
    let (_, words) = CommandTree.resolve(arguments, root: root, globals: CommandTree.globalFlags(rt))
    if let command = words.first, root.child(command) != nil {
      let canonical = root.child(command)?.name ?? command
      let count = Counters(env: env).increment(canonical)
      if let code = Faults.apply(command: canonical, count: count, env: env) {
        log.end(code)
        return code
      }
    }
    let code = CommandTree.dispatch(arguments, rt: rt)
    log.end(code)
    return code
  }
}
