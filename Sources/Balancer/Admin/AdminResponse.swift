/// One answer of the admin endpoint.
struct AdminResponse: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]

    static func text(_ text: String, status: Int = 200) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}
