import MusterBase
import Testing

@Suite("member limits: named once")
struct MemberLimitsTests {
    @Test("a remote weight is kept within the weight range")
    func clampedWeight() {
        #expect(MemberLimits.weights == 1...1000)
        #expect(MemberLimits.clampedWeight(0) == 1)
        #expect(MemberLimits.clampedWeight(7) == 7)
        #expect(MemberLimits.clampedWeight(1000) == 1000)
        #expect(MemberLimits.clampedWeight(1001) == 1000)
        #expect(MemberLimits.clampedWeight(.max) == 1000)
    }

    @Test("an id is 1-128 id characters, not . or ..")
    func ids() {
        #expect(MemberLimits.isValidID("chat-1.a_b:c"))
        #expect(MemberLimits.isValidID(String(repeating: "a", count: 128)))
        #expect(!MemberLimits.isValidID(String(repeating: "a", count: 129)))
        #expect(!MemberLimits.isValidID("."))
        #expect(!MemberLimits.isValidID("a/b"))
        #expect(!MemberLimits.isValidID("é"))
        let allowed = (0...255).map(UInt8.init).filter(MemberLimits.isIDCharacter)
        #expect(String(decoding: allowed, as: UTF8.self) == "-.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
    }
}
