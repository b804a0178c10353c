extension UntrustedText {
    /// The cut for `displayed`: room for a value already escaped at ``defaultLimit``.
    public static let displayLimit = 2 * defaultLimit + 40

    /// `text` made safe for a terminal without escaping it twice: every scalar that is not
    /// ``isPlain(_:)`` is escaped, except the backslash, which is kept as it is. Text that
    /// ``escaped(_:limit:)`` made is returned unchanged (when within `limit`), so a table can
    /// apply this to values that may or may not have been escaped already (an older balancer's
    /// admin answer, say) and still never print a control or format character raw.
    public static func displayed(_ text: some StringProtocol, limit: Int = displayLimit) -> String {
        cut(text, limit: limit) { scalar in scalar == "\\" ? "\\" : escape(scalar) }
    }
}
