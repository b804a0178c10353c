import Foundation
import MusterBase
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Registry

/// Reads the admin endpoint of a running balancer (what `balancer members` uses).
public enum AdminClient {
    public enum Failure: Error, CustomStringConvertible {
        case unreachable(address: String, underlying: String)
        case badResponse(address: String, detail: String)

        public var description: String {
            switch self {
            case .unreachable(let address, let underlying):
                return "cannot reach the balancer admin endpoint at \(address) (\(underlying)); is `balancer run` running? "
                    + "Use --admin ADDR, or --zookeeper HOSTS --path P to read the registry directly"
            case .badResponse(let address, let detail):
                return "unexpected answer from \(address): \(detail)"
            }
        }
    }

    /// GET `path` and return the body of a 200 answer.
    public static func get(_ path: String, from address: Endpoint, timeout: Duration = .seconds(5)) async throws -> [UInt8] {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure.unreachable(address: address.description, underlying: "\(error)")
        }
        // The whole exchange is bounded too: a stuck endpoint is closed at the deadline.
        let timedOut = NIOLockedValueBox(false)
        let underlying = channel.channel
        let deadline = underlying.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            timedOut.withLockedValue { $0 = true }
            underlying.close(promise: nil)
        }
        defer { deadline.cancel() }
        let response: [UInt8]
        do {
            response = try await Self.exchange(path, on: channel, address: address)
        } catch {
            if timedOut.withLockedValue({ $0 }) {
                throw Failure.badResponse(address: address.description, detail: "no complete answer within \(timeout)")
            }
            throw error
        }
        if timedOut.withLockedValue({ $0 }) {
            throw Failure.badResponse(address: address.description, detail: "no complete answer within \(timeout)")
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = Self.firstRange(of: separator, in: response) else {
            throw Failure.badResponse(address: address.description, detail: "no HTTP header")
        }
        let head = String(decoding: response[..<split], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let body = Array(response[(split + separator.count)...])
        guard statusLine.split(separator: " ").dropFirst().first == "200" else {
            throw Failure.badResponse(address: address.description, detail: "\(statusLine): \(String(decoding: body, as: UTF8.self))")
        }
        return body
    }

    /// Sends the request and reads until the endpoint closes (the request asks it to).
    private static func exchange(
        _ path: String, on channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, address: Endpoint
    ) async throws -> [UInt8] {
        try await channel.executeThenClose { inbound, outbound in
            let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n"
            try await outbound.write(ByteBuffer(string: request))
            var bytes: [UInt8] = []
            for try await buffer in inbound {
                bytes += buffer.readableBytesView
                if bytes.count > 64 * 1024 * 1024 {
                    throw Failure.badResponse(address: address.description, detail: "answer larger than 64 MiB")
                }
            }
            return bytes
        }
    }

    /// The balancer's members report.
    public static func members(from address: Endpoint, timeout: Duration = .seconds(5)) async throws -> MembersReport {
        let body = try await Self.get("/members", from: address, timeout: timeout)
        do {
            return try JSONDecoder().decode(MembersReport.self, from: Data(body))
        } catch {
            throw Failure.badResponse(address: address.description, detail: "cannot decode members JSON: \(error)")
        }
    }

    /// The JSON text `GET /members` serves, re-encoded the same way (for `--json`).
    public static func json(_ report: MembersReport) throws -> String {
        String(decoding: try AdminRoutes.encoder().encode(report), as: UTF8.self)
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
