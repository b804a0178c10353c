@testable import Registry
import Testing

/// The per-client callback table, without the C library: what its context pointers reach.
@Suite("callback table")
struct CallbackTableTests {
    final class Seen: Sendable {
        let outcomes = Locked<[String]>([])
        func add(_ text: String) { outcomes.withLock { $0.append(text) } }
        var all: [String] { outcomes.withLock { $0 } }
    }

    static func describe(_ outcome: CompletionOutcome) -> String {
        switch outcome {
        case .success: "success"
        case .failure(let code): "\(code)"
        }
    }

    @Test func aContextIsTakenOnceAndThenFindsNothing() {
        let table = CallbackTable()
        let seen = Seen()
        let entry = table.add(.completion { seen.add(Self.describe($0)) }, generation: 1)
        #expect(table.count == 1)
        guard case .completion(let handler)? = CallbackTable.take(entry.context) else {
            Issue.record("the entry was not found")
            return
        }
        handler(.success(.none))
        #expect(table.remove(entry.token) == nil)
        #expect(table.count == 0)
        #expect(seen.all == ["success"])
    }

    @Test func drainingAHandleEndsOnlyItsCallbacks() {
        let table = CallbackTable()
        let seen = Seen()
        _ = table.add(.completion { seen.add("1:" + Self.describe($0)) }, generation: 1)
        _ = table.add(.watch { seen.add("1:\($0)") }, generation: 1)
        let kept = table.add(.completion { seen.add("2:" + Self.describe($0)) }, generation: 2)
        table.drain(generation: 1)
        #expect(seen.all.sorted() == ["1:client is closing", "1:sessionLost"])
        #expect(table.count == 1)
        table.drain(generation: nil)
        #expect(seen.all.count == 3)
        #expect(table.remove(kept.token) == nil)
    }

    @Test func twoClientsHaveTwoTables() {
        let first = CallbackTable()
        let second = CallbackTable()
        let a = first.add(.watch { _ in }, generation: 1)
        let b = second.add(.watch { _ in }, generation: 1)
        #expect(a.token == b.token)
        second.drain(generation: nil)
        #expect(first.count == 1)
        #expect(CallbackTable.take(a.context) != nil)
        #expect(first.count == 0)
    }
}
