import Testing
@testable import ServerAgent
