import CLibCrypto

/// SHA-256 (FIPS 180-4), for the digest that binds a saved plan to the desired files, file
/// digests and content digests.
///
/// The hashing is the system libcrypto's (OpenSSL 3, through its EVP interface): it uses the
/// CPU's SHA extensions or vector units where there are some, several times faster than the
/// portable Swift code hk carried before (kept in the tests as the reference this is compared
/// with). hk already links libcrypto through libpq, so this adds no runtime dependency; on
/// Linux swift-crypto would build BoringSSL instead. Checked against the FIPS test vectors in
/// `ModelTests`.
///
/// A value type: a copy hashes on independently of the original (the OpenSSL context is
/// copied when a shared one is about to change).
public struct SHA256: Sendable {
  private var state: DigestContext

  public init() { state = DigestContext() }

  /// The context, copied first when another `SHA256` value shares it.
  private mutating func uniqueContext() -> OpaquePointer {
    if !isKnownUniquelyReferenced(&state) { state = DigestContext(copying: state) }
    return state.context
  }

  public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
    let context = uniqueContext()
    let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
      DigestContext.update(context, UnsafeRawBufferPointer(buffer))
    }
    if done != nil { return }
    // Not contiguous: fed in 4 KiB chunks.
    var chunk: [UInt8] = []
    chunk.reserveCapacity(4096)
    for b in bytes {
      chunk.append(b)
      if chunk.count == 4096 {
        chunk.withUnsafeBytes { DigestContext.update(context, $0) }
        chunk.removeAll(keepingCapacity: true)
      }
    }
    chunk.withUnsafeBytes { DigestContext.update(context, $0) }
  }

  public mutating func update(_ bytes: [UInt8]) {
    let context = uniqueContext()
    bytes.withUnsafeBytes { DigestContext.update(context, $0) }
  }

  /// Feeds raw bytes (e.g. a part of a buffer being written).
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    DigestContext.update(uniqueContext(), bytes)
  }

  public mutating func update(_ string: String) {
    let context = uniqueContext()
    var s = string
    s.withUTF8 { DigestContext.update(context, UnsafeRawBufferPointer($0)) }
  }

  /// The 32-byte digest of everything fed so far; the value then starts over, empty.
  public mutating func finalize() -> [UInt8] {
    let context = uniqueContext()
    let out = [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
      var size: UInt32 = 0
      guard let base = buffer.baseAddress, EVP_DigestFinal_ex(context, base, &size) == 1, size == 32 else {
        DigestContext.fail("EVP_DigestFinal_ex")
      }
      count = 32
    }
    DigestContext.start(context)
    return out
  }

  /// `sha256:<hex>` of `bytes`.
  public static func digest(bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { digest(raw: $0) }
  }

  /// `sha256:<hex>` of raw bytes.
  public static func digest(raw bytes: UnsafeRawBufferPointer) -> String {
    var md = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    return withUnsafeMutableBytes(of: &md) { out in
      var size: UInt32 = 0
      guard let base = out.baseAddress?.assumingMemoryBound(to: UInt8.self),
        EVP_Digest(bytes.baseAddress, bytes.count, base, &size, DigestContext.sha256.md, nil) == 1, size == 32
      else { DigestContext.fail("EVP_Digest") }
      return "sha256:" + hex(UnsafeRawBufferPointer(out))
    }
  }

  /// `sha256:<hex>` of `string`'s UTF-8 bytes.
  public static func digest(_ string: String) -> String {
    var s = string
    return s.withUTF8 { digest(raw: UnsafeRawBufferPointer($0)) }
  }

  public static func hex(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { hex($0) }
  }

  static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
      // Two digits per byte: the capacity holds them all.
      let digits: StaticString = "0123456789abcdef"
      digits.withUTF8Buffer { d in
        var i = 0
        for b in bytes {
          out[i] = d[Int(b >> 4)]
          out[i + 1] = d[Int(b & 0xF)]
          i += 2
        }
      }
      return bytes.count * 2
    }
  }
}

/// One OpenSSL digest context (`EVP_MD_CTX`), owned by one ``SHA256`` value at a time while it
/// changes: `@unchecked Sendable` because ``SHA256`` copies it before mutating a shared one
/// (copy on write), so no two threads ever update the same context.
private final class DigestContext: @unchecked Sendable {
  let context: OpaquePointer

  init() {
    guard let c = EVP_MD_CTX_new() else { DigestContext.fail("EVP_MD_CTX_new") }
    context = c
    DigestContext.start(c)
  }

  init(copying other: DigestContext) {
    guard let c = EVP_MD_CTX_new() else { DigestContext.fail("EVP_MD_CTX_new") }
    guard EVP_MD_CTX_copy_ex(c, other.context) == 1 else { DigestContext.fail("EVP_MD_CTX_copy_ex") }
    context = c
  }

  deinit { EVP_MD_CTX_free(context) }

  static func start(_ context: OpaquePointer) {
    guard EVP_DigestInit_ex(context, sha256.md, nil) == 1 else { fail("EVP_DigestInit_ex") }
  }

  static func update(_ context: OpaquePointer, _ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else { fail("EVP_DigestUpdate") }
  }

  /// SHA-256 fetched once for the process (an implicit fetch per use costs a lookup in
  /// OpenSSL 3's provider store every time).
  static let sha256 = Algorithm()

  /// A fetched `EVP_MD`: immutable once fetched and documented as safe to share between threads.
  struct Algorithm: @unchecked Sendable {
    let md: OpaquePointer
    init() {
      guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { DigestContext.fail("EVP_MD_fetch(SHA256)") }
      self.md = md
    }
  }

  /// libcrypto failed where it only fails without memory or without its default provider
  /// (a broken OpenSSL configuration): nothing hk can hash with.
  static func fail(_ call: String) -> Never {
    fatalError("hk: the system libcrypto failed in \(call): SHA-256 is unavailable (check OPENSSL_CONF and the OpenSSL install)")
  }
}
