import Testing
@Test func placeholderModelTests() {}
