/// Field paths as hk prints them: `spec.subnets[name=ap-northeast-1a].cidr`,
/// `spec.additionalPolicies.node[0]`, `instancegroup[nodes-a].spec.machineType`.
public enum FieldPath {
  /// Appends a mapping key to `base`.
  public static func key(_ base: String, _ key: String) -> String {
    let k = needsQuoting(key) ? "[\"\(key)\"]" : key
    if base.isEmpty { return k }
    return k.hasPrefix("[") ? base + k : base + "." + k
  }
  /// Appends a named-list selector.
  public static func named(_ base: String, _ name: String) -> String { base + "[name=\(name)]" }
  /// Appends an index.
  public static func index(_ base: String, _ i: Int) -> String { base + "[\(i)]" }

  static func needsQuoting(_ key: String) -> Bool {
    key.isEmpty || key.contains(where: { $0 == "." || $0 == "[" || $0 == "]" || $0 == "\"" || $0 == " " })
  }

  /// Splits a path into segments: `a.b[name=x].c[0]` → `a`, `b`, `[name=x]`, `c`, `[0]`.
  public static func segments(_ path: String) -> [String] {
    var out: [String] = []
    var cur = ""
    var inBracket = false
    var inQuote = false
    for ch in path {
      if inBracket {
        cur.append(ch)
        if ch == "\"" { inQuote.toggle() }
        if ch == "]" && !inQuote {
          out.append(cur)
          cur = ""
          inBracket = false
        }
        continue
      }
      switch ch {
      case ".":
        if !cur.isEmpty { out.append(cur) }
        cur = ""
      case "[":
        if !cur.isEmpty { out.append(cur) }
        cur = "["
        inBracket = true
      default: cur.append(ch)
      }
    }
    if !cur.isEmpty { out.append(cur) }
    return out
  }

  /// Whether `pattern` (segments with `*` wildcards, `[name=*]`, `[*]`) covers `candidate` or a
  /// parent of it.
  public static func matches(pattern: String, _ candidate: String) -> Bool {
    let p = segments(pattern)
    let c = segments(candidate)
    guard p.count <= c.count else { return false }
    for (ps, cs) in zip(p, c) where !segmentMatches(ps, cs) { return false }
    return true
  }

  static func segmentMatches(_ p: String, _ c: String) -> Bool {
    if p == c || p == "*" || p == "[*]" || p == "[name=*]" && c.hasPrefix("[name=") { return true }
    if p.contains("*") { return glob(p, c) }
    return false
  }

  /// Shell-style matching of a whole string: `*` matches any run of characters, `?` any one.
  public static func glob(_ pattern: String, _ string: String) -> Bool {
    let p = Array(pattern.unicodeScalars)
    let s = Array(string.unicodeScalars)
    var pi = 0
    var si = 0
    var star = -1
    var resume = 0
    while si < s.count {
      if pi < p.count && (p[pi] == s[si] || p[pi] == "?") {
        pi += 1
        si += 1
      } else if pi < p.count && p[pi] == "*" {
        star = pi
        resume = si
        pi += 1
      } else if star >= 0 {
        pi = star + 1
        resume += 1
        si = resume
      } else {
        return false
      }
    }
    while pi < p.count && p[pi] == "*" { pi += 1 }
    return pi == p.count
  }
}
