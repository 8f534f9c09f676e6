import Testing
@Test func placeholderConfigTests() {}
