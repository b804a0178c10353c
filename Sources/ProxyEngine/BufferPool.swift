/// The pending-write buffers of one worker: fixed-size chunks handed to a direction whose peer
/// cannot take its bytes at once, and given back as soon as they are written, so an idle
/// connection owns no buffer (HAProxy's per-thread pools, `include/haproxy/pool.h`).
///
/// Chunks are allocated when the pool is empty and kept for reuse up to `keep`; beyond that a
/// returned chunk is freed, so a burst of slow readers does not pin its memory for ever.
struct BufferPool {
    static let chunkSize = SessionState.backpressureLimit

    private var chunks: [UnsafeMutableRawPointer?] = []
    private var free: [Int32] = []
    private let keep: Int
    private(set) var inUse = 0

    init(keep: Int = 256) {
        self.keep = keep
        self.chunks.reserveCapacity(keep)
        self.free.reserveCapacity(keep)
    }

    /// A chunk's index; its memory is `pointer(index)`.
    mutating func take() -> Int32 {
        self.inUse += 1
        if let index = self.free.popLast() {
            return index
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        if let hole = self.chunks.firstIndex(where: { $0 == nil }) {
            self.chunks[hole] = memory
            return Int32(hole)
        }
        self.chunks.append(memory)
        return Int32(self.chunks.count - 1)
    }

    func pointer(_ index: Int32) -> UnsafeMutableRawPointer {
        self.chunks[Int(index)]!
    }

    mutating func give(_ index: Int32) {
        self.inUse -= 1
        if self.free.count < self.keep {
            self.free.append(index)
        } else {
            self.chunks[Int(index)]?.deallocate()
            self.chunks[Int(index)] = nil
        }
    }

    /// Frees every chunk (the worker is stopping).
    mutating func releaseAll() {
        for chunk in self.chunks {
            chunk?.deallocate()
        }
        self.chunks.removeAll()
        self.free.removeAll()
        self.inUse = 0
    }
}
