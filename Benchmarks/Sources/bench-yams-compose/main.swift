// A comparison for hk's plan-throughput benchmark (P1): Yams compose of the files hk reads.
//
// Usage: bench-yams-compose LISTFILE
// Composes every document of each file named in LISTFILE (one path a line) into a Yams `Node`
// tree (with marks and resolved tags, as hk's own trees have), and prints
// "files=N documents=N nodes=N" so the harness can check the work was done.
import Foundation
import Yams

func count(_ node: Node) -> Int {
  switch node {
  case .scalar, .alias: 1
  case .mapping(let m): m.reduce(1) { $0 + count($1.key) + count($1.value) }
  case .sequence(let s): s.reduce(1) { $0 + count($1) }
  }
}

let arguments = CommandLine.arguments
guard arguments.count == 2, let listing = FileManager.default.contents(atPath: arguments[1]) else {
  FileHandle.standardError.write(Data("usage: bench-yams-compose LISTFILE\n".utf8))
  exit(64)
}
var files = 0
var documents = 0
var nodes = 0
for path in String(decoding: listing, as: UTF8.self).split(separator: "\n") where !path.isEmpty {
  guard let data = FileManager.default.contents(atPath: String(path)) else {
    FileHandle.standardError.write(Data("bench-yams-compose: cannot read \(path)\n".utf8))
    exit(1)
  }
  do {
    var roots = try compose_all(yaml: String(decoding: data, as: UTF8.self))
    while let node = roots.next() {
      documents += 1
      nodes += count(node)
    }
    if let error = roots.error { throw error }
  } catch {
    FileHandle.standardError.write(Data("bench-yams-compose: \(path): \(error)\n".utf8))
    exit(1)
  }
  files += 1
}
print("files=\(files) documents=\(documents) nodes=\(nodes)")
