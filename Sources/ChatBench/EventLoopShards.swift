import NIOCore

/// One mutable statistics object per event loop, so handlers record without locks.
///
/// Each object is created on, written on and read on its own loop only; `NIOLoopBound` checks that.
struct EventLoopShards<Stats>: Sendable {
    let loops: [any EventLoop]
    private let shards: [NIOLoopBound<Stats>]

    static func make(on group: any EventLoopGroup, _ make: @escaping @Sendable () -> Stats) async throws -> Self {
        let loops = Array(group.makeIterator())
        var shards: [NIOLoopBound<Stats>] = []
        for loop in loops {
            shards.append(try await loop.submit { NIOLoopBound(make(), eventLoop: loop) }.get())
        }
        return Self(loops: loops, shards: shards)
    }

    /// The loop for connection number `index`: connections are spread round robin.
    func loop(for index: Int) -> any EventLoop {
        self.loops[index % self.loops.count]
    }

    /// The stats object of connection `index`'s loop; call only on that loop.
    func stats(for index: Int) -> NIOLoopBound<Stats> {
        self.shards[index % self.shards.count]
    }

    /// Reads every shard on its own loop and combines them.
    func collect<Summary: Sendable>(_ read: @escaping @Sendable (Stats) -> Summary) async throws -> [Summary] {
        var summaries: [Summary] = []
        for (loop, shard) in zip(self.loops, self.shards) {
            summaries.append(try await loop.submit { read(shard.value) }.get())
        }
        return summaries
    }
}
