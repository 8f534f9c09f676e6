import Testing

@testable import Model

/// A scalar keeps its tag as a number (``TagTable``): the tag reads back as written, equal tags
/// get equal numbers, and yaml.org's tags still decide the value.
@Suite struct TagTableTests {
  @Test func tagsReadBackAndResolve() {
    #expect(YAMLScalar("3128").tag == nil)
    #expect(YAMLScalar("3128", tag: "tag:yaml.org,2002:str").tag == "tag:yaml.org,2002:str")
    #expect(YAMLScalar("3128", tag: "tag:yaml.org,2002:str").value == .string("3128"))
    #expect(YAMLScalar("3128", tag: "tag:yaml.org,2002:int").intValue == 3128)
    #expect(YAMLScalar("3128", tag: "tag:yaml.org,2002:float").value == .float(3128))
    #expect(YAMLScalar("yes", tag: "tag:yaml.org,2002:bool").value == .string("yes"))
    #expect(YAMLScalar("true", tag: "tag:yaml.org,2002:bool").value == .bool(true))
    #expect(YAMLScalar("~", tag: "tag:yaml.org,2002:null").isNull)
    #expect(YAMLScalar("x", tag: "!custom").tag == "!custom")
    #expect(YAMLScalar("x", tag: "!custom").tagID == YAMLScalar("y", tag: "!custom").tagID)
    #expect(YAMLScalar("x", tag: "!custom").tagID != YAMLScalar("x", tag: "!other").tagID)
    #expect(YAMLNode(.scalar(YAMLScalar("1", tag: "!a"))) == YAMLNode(.scalar(YAMLScalar("1", tag: "!b"))))
    #expect(YAMLNode(.scalar(YAMLScalar("1", tag: "tag:yaml.org,2002:str"))) != YAMLNode(.scalar(YAMLScalar("1"))))
  }

  @Test func theNodeIsCompact() {
    #expect(MemoryLayout<YAMLScalar>.size <= 20)
    #expect(MemoryLayout<YAMLNode>.stride <= 32)
    #expect(MemoryLayout<YAMLPair>.stride <= 64)
  }
}
