import Testing
@testable import Balancer
