import Foundation
import Model

/// An error that ends a command the way cobra ends it: `Error: <message>` on stderr, exit 1.
///
/// `showUsage` adds the command's usage after the message, as cobra does for flag errors
/// (runtime errors set `SilenceUsage` in kops, so they never print it).
struct KopsError: Error {
  var message: String
  var showUsage: Bool
  init(_ message: String, showUsage: Bool = false) {
    self.message = message
    self.showUsage = showUsage
  }
}

/// Ends the process with `code` and nothing more on stderr (kops's direct `os.Exit` calls and
/// `klog.Fatal`, which has printed its own line already).
struct KopsExit: Error {
  var code: Int32
}

/// Unbuffered writes to stdout and stderr (kops writes both unbuffered, so the test sees
/// everything even when the process is killed).
enum Console {
  static func out(_ text: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
  }
  static func err(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
  }
}

/// klog's header: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`, always on stderr.
enum Klog {
  static func info(_ site: String, _ message: String) { Console.err(line("I", site, message)) }
  static func warning(_ site: String, _ message: String) { Console.err(line("W", site, message)) }
  static func error(_ site: String, _ message: String) { Console.err(line("E", site, message)) }

  /// `klog.Fatal`: prints an `F` line and ends the process with 255.
  static func fatal(_ site: String, _ message: String) -> KopsExit {
    Console.err(line("F", site, message))
    return KopsExit(code: 255)
  }

  static func line(_ severity: String, _ site: String, _ message: String) -> String {
    let now = Date()
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone.current
    let c = calendar.dateComponents([.month, .day, .hour, .minute, .second], from: now)
    let micros = Int((now.timeIntervalSince1970 * 1_000_000).truncatingRemainder(dividingBy: 1_000_000))
    let stamp =
      pad(c.month ?? 1, 2) + pad(c.day ?? 1, 2) + " " + pad(c.hour ?? 0, 2) + ":" + pad(c.minute ?? 0, 2) + ":"
      + pad(c.second ?? 0, 2) + "." + pad(micros, 6)
    let pid = String(getpid())
    let pidField = String(repeating: " ", count: max(0, 7 - pid.count)) + pid
    let body = message.hasSuffix("\n") ? message : message + "\n"
    return severity + stamp + " " + pidField + " " + site + "] " + body
  }

  static func pad(_ value: Int, _ width: Int) -> String {
    let s = String(value)
    return String(repeating: "0", count: max(0, width - s.count)) + s
  }
}

/// What every command can read: the environment, the simulated kops version, paths.
struct Runtime {
  /// The process environment as fake-kops received it.
  var env: [String: String]
  /// The kops version being imitated (`FAKE_KOPS_VERSION`, default 1.28.4).
  var version: KopsVersion
  /// The version text as printed by `kops version --short`.
  var versionText: String
  /// The working directory, for relative paths.
  var cwd: String

  /// `$HOME` (kubeconfig and `~/.kops.yaml` live under it).
  var home: String { env["HOME"] ?? NSHomeDirectory() }

  /// Whether this kops has reached `major.minor` (CLI-surface details only: what hk has a rule
  /// for asks ``release``).
  func atLeast(_ major: Int, _ minor: Int) -> Bool { version.atLeast(major, minor) }

  /// The double's own table of version rules (``KopsRelease``).
  var release: KopsRelease { KopsRelease(version) }

  /// A path made absolute against the working directory; `~/` expands to `$HOME`.
  func absolute(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    if path == "~" { return home }
    if path.hasPrefix("~/") { return home + "/" + path.dropFirst(2) }
    return cwd + "/" + path
  }

  /// A non-negative number of seconds from the environment, or `fallback`.
  func seconds(_ name: String, default fallback: Double) -> Double {
    guard let text = env[name], let value = Double(text.trimmingSpaces()), value >= 0 else { return fallback }
    return value
  }
}

/// Reads a whole file as UTF-8 text, nil when it does not exist or cannot be read.
func readTextFile(_ path: String) -> String? {
  guard let data = FileManager.default.contents(atPath: path) else { return nil }
  return String(decoding: data, as: UTF8.self)
}

/// Writes `text` to `path` atomically, creating parent directories.
func writeTextFile(_ path: String, _ text: String) throws(KopsError) {
  let dir = (path as NSString).deletingLastPathComponent
  do {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
  } catch {
    throw KopsError("error writing file \(path): \(error.localizedDescription)")
  }
}

/// Whether a regular file or directory exists at `path`.
func fileExists(_ path: String) -> Bool {
  FileManager.default.fileExists(atPath: path)
}

/// Go's `%q` for a string: double-quoted with Go escapes.
func goQuote(_ s: String) -> String {
  var out = ""
  JSONValue.quote(s, into: &out)
  return out
}

/// Sleeps the calling thread for `seconds` (fractions allowed).
func sleepSeconds(_ seconds: Double) {
  guard seconds > 0 else { return }
  Thread.sleep(forTimeInterval: seconds)
}

/// The current time as RFC 3339 in UTC with whole seconds (`metav1.Time`'s format).
func rfc3339Now() -> String {
  formatRFC3339(Date())
}

/// A date as RFC 3339 in UTC with whole seconds.
func formatRFC3339(_ date: Date) -> String {
  var calendar = Calendar(identifier: .gregorian)
  calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone.current
  let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
  return Klog.pad(c.year ?? 1970, 4) + "-" + Klog.pad(c.month ?? 1, 2) + "-" + Klog.pad(c.day ?? 1, 2) + "T"
    + Klog.pad(c.hour ?? 0, 2) + ":" + Klog.pad(c.minute ?? 0, 2) + ":" + Klog.pad(c.second ?? 0, 2) + "Z"
}

/// Parses an RFC 3339 timestamp (fractional seconds and offsets allowed).
func parseRFC3339(_ text: String) -> Date? {
  let f = ISO8601DateFormatter()
  f.formatOptions = [.withInternetDateTime]
  if let d = f.date(from: text) { return d }
  f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
  return f.date(from: text)
}
