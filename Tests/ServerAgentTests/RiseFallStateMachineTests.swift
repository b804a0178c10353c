import Testing
@testable import ServerAgent

@Suite("Rise/fall damping")
struct RiseFallStateMachineTests {
    typealias Machine = RiseFallStateMachine<ContinuousClock.Instant>
    let start = ContinuousClock.Instant.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        start + .milliseconds(milliseconds)
    }

    @Test func startsDownAndRisesOnlyAfterRiseConsecutiveHealthyChecks() {
        var machine = Machine(rise: 3, fall: 2, start: start)
        #expect(machine.status == .down)
        #expect(machine.record(.healthy, at: at(100)) == nil)
        #expect(machine.record(.healthy, at: at(200)) == nil)
        let transition = machine.record(.healthy, at: at(300))
        #expect(
            transition
                == Machine.Transition(
                    from: .down, to: .up, reason: "3 consecutive checks passed", at: at(300),
                    previousStatusLasted: .milliseconds(300)))
        #expect(machine.status == .up)
        #expect(machine.since == at(300))
    }

    @Test func aFailureResetsTheHealthyStreak() {
        var machine = Machine(rise: 2, fall: 2, start: start)
        #expect(machine.record(.healthy, at: at(1)) == nil)
        #expect(machine.record(.unhealthy("refused"), at: at(2)) == nil)
        #expect(machine.record(.healthy, at: at(3)) == nil)
        #expect(machine.status == .down)
        #expect(machine.record(.healthy, at: at(4))?.to == .up)
    }

    @Test func fallsOnlyAfterFallConsecutiveFailuresWithTheLastReason() {
        var machine = Machine(rise: 1, fall: 3, start: start)
        #expect(machine.record(.healthy, at: at(0))?.reason == "1 check passed")
        #expect(machine.record(.unhealthy("timeout"), at: at(1000)) == nil)
        #expect(machine.record(.unhealthy("timeout"), at: at(2000)) == nil)
        #expect(machine.status == .up)
        let transition = machine.record(.unhealthy("connection refused"), at: at(3000))
        #expect(
            transition
                == Machine.Transition(
                    from: .up, to: .down,
                    reason: "3 consecutive checks failed, last: connection refused",
                    at: at(3000), previousStatusLasted: .seconds(3)))
        #expect(machine.status == .down)
    }

    @Test func aSuccessResetsTheFailureStreak() {
        var machine = Machine(rise: 1, fall: 2, start: start)
        _ = machine.record(.healthy, at: at(0))
        #expect(machine.record(.unhealthy("x"), at: at(1)) == nil)
        #expect(machine.record(.healthy, at: at(2)) == nil)
        #expect(machine.record(.unhealthy("x"), at: at(3)) == nil)
        #expect(machine.status == .up)
        #expect(machine.record(.unhealthy("x"), at: at(4))?.reason == "2 consecutive checks failed, last: x")
    }

    @Test func failuresWhileDownAndSuccessesWhileUpCauseNoTransition() {
        var machine = Machine(rise: 2, fall: 2, start: start)
        for step in 0..<10 {
            #expect(machine.record(.unhealthy("down"), at: at(step)) == nil)
        }
        _ = machine.record(.healthy, at: at(10))
        _ = machine.record(.healthy, at: at(11))
        for step in 12..<20 {
            #expect(machine.record(.healthy, at: at(step)) == nil)
        }
        #expect(machine.status == .up)
    }

    @Test func recoversAfterFallingAndNeedsAFreshRiseStreak() {
        var machine = Machine(rise: 2, fall: 1, start: start)
        _ = machine.record(.healthy, at: at(0))
        #expect(machine.record(.healthy, at: at(1))?.to == .up)
        #expect(machine.record(.unhealthy("gone"), at: at(2))?.reason == "1 check failed, last: gone")
        #expect(machine.record(.healthy, at: at(3)) == nil)
        let back = machine.record(.healthy, at: at(4))
        #expect(back?.from == .down)
        #expect(back?.to == .up)
        #expect(back?.previousStatusLasted == .milliseconds(2))
    }

    @Test func forceDownSkipsTheFallCountAndResetsTheHealthyStreak() {
        var machine = Machine(rise: 2, fall: 5, start: start)
        _ = machine.record(.healthy, at: at(0))
        _ = machine.record(.healthy, at: at(1))
        let transition = machine.forceDown(reason: "server exited with status 3", at: at(5))
        #expect(transition?.to == .down)
        #expect(transition?.reason == "server exited with status 3")
        #expect(machine.forceDown(reason: "again", at: at(6)) == nil)

        var down = Machine(rise: 2, fall: 2, start: start)
        _ = down.record(.healthy, at: at(0))
        #expect(down.forceDown(reason: "exit", at: at(1)) == nil)
        #expect(down.record(.healthy, at: at(2)) == nil, "the streak before forceDown must not count")
    }

    @Test func riseAndFallBelowOneAreTreatedAsOne() {
        var machine = Machine(rise: 0, fall: -3, start: start)
        #expect(machine.rise == 1)
        #expect(machine.fall == 1)
        #expect(machine.record(.healthy, at: at(0))?.to == .up)
        #expect(machine.record(.unhealthy("x"), at: at(1))?.to == .down)
    }
}
