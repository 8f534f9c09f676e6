/// Go's `time.Duration` text: `ParseDuration` and `String` (for flags such as `--admin=1h` and
/// for klog's "(9m50s remaining to succeed)").
enum GoDuration {
  /// Parses `1h30m`, `18h0m0s`, `10s`, `1.5h`, `500ms`, `0`; nil when Go would refuse it.
  static func parse(_ text: String) -> Double? {
    var s = Substring(text)
    var negative = false
    if s.first == "-" || s.first == "+" {
      negative = s.first == "-"
      s = s.dropFirst()
    }
    if s == "0" { return 0 }
    guard !s.isEmpty else { return nil }
    var total = 0.0
    while !s.isEmpty {
      var number = ""
      while let c = s.first, c.isASCII, c.isNumber || c == "." {
        number.append(c)
        s = s.dropFirst()
      }
      guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
      var unit = ""
      while let c = s.first, !(c.isASCII && (c.isNumber || c == ".")) {
        unit.append(c)
        s = s.dropFirst()
      }
      let scale: Double
      switch unit {
      case "ns": scale = 1e-9
      case "us", "µs", "μs": scale = 1e-6
      case "ms": scale = 1e-3
      case "s": scale = 1
      case "m": scale = 60
      case "h": scale = 3600
      default: return nil
      }
      total += value * scale
    }
    return negative ? -total : total
  }

  /// Go's `Duration.String()` for a duration in seconds (whole seconds and milliseconds).
  static func format(_ seconds: Double) -> String {
    if seconds == 0 { return "0s" }
    let negative = seconds < 0
    let magnitude = abs(seconds)
    var out = ""
    if magnitude < 1 {
      let ms = magnitude * 1000
      out = ms == ms.rounded() ? "\(Int(ms))ms" : "\(ms)ms"
    } else {
      let whole = Int(magnitude)
      let fraction = magnitude - Double(whole)
      let h = whole / 3600
      let m = (whole % 3600) / 60
      let s = whole % 60
      var secondsText = String(s)
      if fraction > 0.0005 {
        var f = String(Int((fraction * 1000).rounded()))
        f = String(repeating: "0", count: max(0, 3 - f.count)) + f
        while f.hasSuffix("0") { f.removeLast() }
        secondsText += "." + f
      }
      if h > 0 {
        out = "\(h)h\(m)m\(secondsText)s"
      } else if m > 0 {
        out = "\(m)m\(secondsText)s"
      } else {
        out = "\(secondsText)s"
      }
    }
    return negative ? "-" + out : out
  }
}
