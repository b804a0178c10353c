/// The worker's session records (and, beside them, the access-log records) in one buffer it manages
/// itself, indexed by slot. Why not an
/// Array: every write to an array element checks that its storage is uniquely referenced and
/// every access checks bounds; with a dozen record updates per event that was a tenth of the
/// instructions per proxied connection (cachegrind). Slots come only from the worker's own
/// allocator, so they are always in range. `Session` is plain data, so growing is a memcpy.
typealias SessionTable = SlotTable<Session>

struct SlotTable<Element> {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        self.base = UnsafeMutablePointer<Element>.allocate(capacity: self.capacity)
    }

    subscript(slot: Int32) -> Element {
        unsafeAddress { UnsafePointer(self.base + Int(slot)) }
        unsafeMutableAddress { self.base + Int(slot) }
    }

    subscript(index: Int) -> Element {
        unsafeAddress { UnsafePointer(self.base + index) }
        unsafeMutableAddress { self.base + index }
    }

    var indices: Range<Int> { 0..<self.count }

    /// Adds a record at slot `count`.
    mutating func append(_ session: Element) {
        if self.count == self.capacity {
            let grown = UnsafeMutablePointer<Element>.allocate(capacity: self.capacity * 2)
            grown.moveInitialize(from: self.base, count: self.count)
            self.base.deallocate()
            self.base = grown
            self.capacity *= 2
        }
        (self.base + self.count).initialize(to: session)
        self.count += 1
    }

    /// Makes `slot` addressable, filling new slots with `filler` (a table that grows only when used).
    mutating func ensure(_ slot: Int32, filler: Element) {
        while self.count <= Int(slot) {
            self.append(filler)
        }
    }

    /// Frees the buffer; the table must not be used afterwards.
    func deallocate() {
        self.base.deinitialize(count: self.count)
        self.base.deallocate()
    }
}
