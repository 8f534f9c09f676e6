/// Levenshtein distance and the nearest candidate, for "did you mean" hints (misspelt settings
/// keys, kops fields and commands). One implementation for every hint hk gives.
public enum EditDistance {
  /// The Levenshtein distance between `a` and `b` over their UTF-8 bytes (the names hk compares
  /// are ASCII), stopping early once every path exceeds `limit`: then the result is `limit + 1`.
  public static func between(_ a: String, _ b: String, limit: Int = Int.max - 1) -> Int {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    if abs(x.count - y.count) > limit { return limit + 1 }
    if x.isEmpty { return y.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
      current[0] = i
      var rowMin = current[0]
      for j in stride(from: 1, through: y.count, by: 1) {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        rowMin = min(rowMin, current[j])
      }
      if rowMin > limit { return limit + 1 }
      swap(&previous, &current)
    }
    return previous[y.count]
  }

  /// The candidate nearest to `word` within `maxDistance` edits, nil when none is; a tie goes to
  /// the smaller candidate, so the hint never depends on a set's order.
  public static func closest(
    to word: String, in candidates: some Sequence<String>, maxDistance: Int, ignoringCase: Bool = false
  ) -> String? {
    let w = ignoringCase ? word.lowercased() : word
    var best: (name: String, distance: Int)?
    for candidate in candidates {
      let d = between(w, ignoringCase ? candidate.lowercased() : candidate, limit: maxDistance)
      guard d <= maxDistance else { continue }
      if best.map({ d < $0.distance || (d == $0.distance && candidate < $0.name) }) ?? true { best = (candidate, d) }
    }
    return best?.name
  }
}
