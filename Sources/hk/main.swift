import Config
import Model
let repo = Repository(root: ".")
do {
  for n in try repo.environmentNames() {
    let e = try repo.load(n)
    print("== \(n) \(e.desiredDigest)")
    print(YAMLEmitter.emit(documents: [e.cluster] + e.instanceGroups))
  }
} catch { print(error) }
