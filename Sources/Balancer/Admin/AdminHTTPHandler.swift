import NIOCore
import NIOHTTP1

/// Serves the admin routes: one GET per request, answered from `route`, keep-alive honoured.
///
/// At most one answer is queued per connection: the next request is answered only once the
/// previous answer has been handed to the kernel. `HTTPServerPipelineHandler` (in front of this
/// handler) hands on one request at a time and stops reading while one is unanswered, so a
/// client that pipelines and never reads holds one answer and one read's worth of requests.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What arrived while an answer was still being written.
    private enum Held {
        case request(HTTPRequestHead)
        case error(HTTPParserError)
    }

    private let route: @Sendable (_ method: HTTPMethod, _ path: String) -> AdminResponse
    private let limits: AdminLimits
    private let onRejected: @Sendable (_ status: Int) -> Void
    private var request: HTTPRequestHead?
    private var writing = false
    private var held: Held?
    private var closing = false

    init(
        route: @escaping @Sendable (_ method: HTTPMethod, _ path: String) -> AdminResponse,
        limits: AdminLimits,
        onRejected: @escaping @Sendable (_ status: Int) -> Void
    ) {
        self.route = route
        self.limits = limits
        self.onRejected = onRejected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.handle(.request(head), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        self.handle(.error(parserError), context: context)
    }

    private func handle(_ item: Held, context: ChannelHandlerContext) {
        guard !self.closing else { return }
        if self.writing {
            // The pipeline handler delivers at most one request past an unanswered one.
            self.held = item
            return
        }
        context.triggerUserOutboundEvent(AdminConnectionEvent.requestReceived, promise: nil)
        switch item {
        case .request(let head):
            if head.uri.utf8.count > self.limits.maxRequestLine {
                self.onRejected(414)
                let response = AdminResponse.text(
                    "request target longer than \(self.limits.maxRequestLine) bytes\n", status: 414)
                self.write(response, version: head.version, method: head.method, keepAlive: false, context: context)
                return
            }
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let response = self.route(head.method, path)
            self.write(response, version: head.version, method: head.method, keepAlive: head.isKeepAlive, context: context)
        case .error(let error):
            let status = error == .headerOverflow ? 431 : 400
            self.onRejected(status)
            let text = status == 431 ? "request head larger than \(self.limits.maxHeaderSize) bytes\n" : "bad request\n"
            self.write(.text(text, status: status), version: .http1_1, method: .GET, keepAlive: false, context: context)
        }
    }

    private func write(
        _ response: AdminResponse, version: HTTPVersion, method: HTTPMethod, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let responseHead = HTTPResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        self.writing = true
        if !keepAlive { self.closing = true }
        context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
        if method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = context.loopBound
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
            handler.value.written(result, keepAlive: keepAlive, context: bound.value)
        }
    }

    private func written(_ result: Result<Void, Error>, keepAlive: Bool, context: ChannelHandlerContext) {
        self.writing = false
        guard case .success = result, keepAlive else {
            self.held = nil
            context.close(promise: nil)
            return
        }
        context.triggerUserOutboundEvent(AdminConnectionEvent.responseWritten, promise: nil)
        if let held = self.held {
            self.held = nil
            self.handle(held, context: context)
        }
    }
}
