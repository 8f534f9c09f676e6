/// Tokens of well-known formats, recognised by their shape wherever they appear.
extension Redaction {
  /// The characters a token's body may hold.
  enum TokenAlphabet: Sendable {
    case alphanumeric, alphanumericUnderscore, alphanumericDash, alphanumericDashUnderscore, upperDigit, jwt

    func contains(_ c: UInt8) -> Bool {
      let alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
      switch self {
      case .alphanumeric: return alnum
      case .alphanumericUnderscore: return alnum || c == 0x5F
      case .alphanumericDash: return alnum || c == 0x2D
      case .alphanumericDashUnderscore: return alnum || c == 0x2D || c == 0x5F
      case .upperDigit: return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A)
      case .jwt: return alnum || c == 0x2D || c == 0x5F || c == 0x2E
      }
    }
  }

  /// Token formats recognised by their shape wherever they appear (a value under a key that
  /// does not look secret, free text in kops output): a prefix, the body's alphabet and its
  /// least length (`exact`: exactly that length). A token must start at a word boundary.
  ///
  /// | prefix | what |
  /// | --- | --- |
  /// | `ghp_` `gho_` `ghu_` `ghs_` `ghr_` `github_pat_` | GitHub tokens |
  /// | `glpat-` | GitLab personal access tokens |
  /// | `xoxb-` `xoxp-` `xoxa-` `xoxr-` `xoxs-` | Slack tokens |
  /// | `AKIA` `ASIA` + 16 | AWS access key IDs |
  /// | `sk_live_` `rk_live_` | Stripe secret keys |
  /// | `npm_` | npm tokens |
  /// | `hvs.` | HashiCorp Vault service tokens |
  /// | `eyJ` with two dots | JSON Web Tokens |
  static let tokenShapes: [(prefix: [UInt8], alphabet: TokenAlphabet, minimum: Int, exact: Bool)] = [
    (Array("ghp_".utf8), .alphanumeric, 30, false), (Array("gho_".utf8), .alphanumeric, 30, false),
    (Array("ghu_".utf8), .alphanumeric, 30, false), (Array("ghs_".utf8), .alphanumeric, 30, false),
    (Array("ghr_".utf8), .alphanumeric, 30, false), (Array("github_pat_".utf8), .alphanumericUnderscore, 20, false),
    (Array("glpat-".utf8), .alphanumericDashUnderscore, 20, false),
    (Array("xoxb-".utf8), .alphanumericDash, 10, false), (Array("xoxp-".utf8), .alphanumericDash, 10, false),
    (Array("xoxa-".utf8), .alphanumericDash, 10, false), (Array("xoxr-".utf8), .alphanumericDash, 10, false),
    (Array("xoxs-".utf8), .alphanumericDash, 10, false),
    (Array("AKIA".utf8), .upperDigit, 16, true), (Array("ASIA".utf8), .upperDigit, 16, true),
    (Array("sk_live_".utf8), .alphanumeric, 16, false), (Array("rk_live_".utf8), .alphanumeric, 16, false),
    (Array("npm_".utf8), .alphanumeric, 36, false), (Array("hvs.".utf8), .alphanumericDashUnderscore, 24, false),
    (Array("eyJ".utf8), .jwt, 30, false),
  ]

  /// Which byte pairs start a token of ``tokenShapes`` (every prefix has at least two bytes):
  /// `tokenPairs[first << 8 | second]`. The scan looks a word's first two bytes up here before
  /// it tries the shapes.
  static let tokenPairs: [Bool] = {
    var t = [Bool](repeating: false, count: 65536)
    for shape in tokenShapes { t[Int(shape.prefix[0]) << 8 | Int(shape.prefix[1])] = true }
    return t
  }()

  /// A word byte: a byte a token may not follow or be followed by.
  @inline(__always)
  static func isWord(_ c: UInt8) -> Bool { TokenAlphabet.alphanumericUnderscore.contains(c) }

  /// Where the token of ``tokenShapes`` starting at `b[i]` ends; nil when none starts there (the
  /// word boundary before `i` is the caller's).
  static func tokenEnd(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
    for shape in tokenShapes where b[i] == shape.prefix[0] && b.count - i > shape.prefix.count {
      var k = 1
      while k < shape.prefix.count && b[i + k] == shape.prefix[k] { k += 1 }
      guard k == shape.prefix.count else { continue }
      var j = i + k
      var dots = 0
      while j < b.count && shape.alphabet.contains(b[j]) {
        if b[j] == 0x2E { dots += 1 }
        j += 1
      }
      let n = j - i - k
      guard shape.exact ? n == shape.minimum : n >= shape.minimum else { continue }
      if shape.alphabet == .jwt && dots < 2 { continue }
      if j < b.count && isWord(b[j]) { continue }
      return j
    }
    return nil
  }
}
