import Foundation
import Testing

@testable import Balancer

@Suite("Config: include")
struct ConfigIncludeTests {
    /// A temporary folder of config files, removed by `remove()`.
    struct Folder {
        let path: String

        init() throws {
            var template = Array("\(NSTemporaryDirectory())/muster-include-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
            self.path = String(cString: made)
        }

        func write(_ name: String, _ text: String) throws {
            let file = "\(path)/\(name)"
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        }

        func load(_ name: String = "main.conf") throws -> BalancerConfiguration {
            try BalancerConfiguration.load(path: "\(path)/\(name)")
        }

        func failure(_ name: String = "main.conf") -> ConfigError? {
            do {
                _ = try load(name)
                return nil
            } catch {
                return error as? ConfigError
            }
        }

        /// Checks that main.conf is refused at `name` (of this folder):`line`:`column`, with `message`.
        func expectRefused(
            in name: String, line: Int, column: Int, message: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            guard let error = self.failure() else {
                Issue.record("main.conf was not refused with a ConfigError", sourceLocation: sourceLocation)
                return
            }
            expectConfigError(
                error, file: "\(self.path)/\(name)", line: line, column: column, message: message, sourceLocation: sourceLocation)
        }

        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Writes `files` (name, text, in order) into a new folder, runs `body` with it, then removes it.
    static func withFolder(_ files: KeyValuePairs<String, String>, _ body: (Folder) throws -> Void) throws {
        let folder = try Folder()
        defer { folder.remove() }
        for (name, text) in files {
            try folder.write(name, text)
        }
        try body(folder)
    }

    @Test("a glob, relative to the config file's folder, includes the matching files in name order, anywhere a directive may be")
    func globInOrder() throws {
        try Self.withFolder([
            "main.conf": "include modules/*.conf;\nstream {\n  include upstreams/*.conf;\n  server { include listen.part; proxy_pass b; }\n}\n",
            "modules/50-stream.conf": "load_module modules/ngx_stream_module.so;\n",
            "modules/10-core.conf": "worker_processes 2;\n",
            "upstreams/b.conf": "upstream b { server 127.0.0.1:2; }\n",
            "upstreams/a.conf": "upstream a { server 127.0.0.1:1; }\n",
            "listen.part": "listen 8000;",
        ]) { folder in
            let configuration = try folder.load()
            #expect(configuration.workerProcesses == 2)
            #expect(configuration.upstreams.map(\.name) == ["a", "b"])
            #expect(configuration.listeners.map(\.listenPort) == [8000])
            #expect(configuration.listenOrigins["0.0.0.0:8000"] == "listen, \(folder.path)/listen.part:1:1")
        }
    }

    @Test("a glob that matches nothing includes nothing; a missing plain file is an error at the include")
    func missing() throws {
        try Self.withFolder(["main.conf": "include none.d/*.conf;\nstream { include missing.conf; }\n"]) { folder in
            folder.expectRefused(
                in: "main.conf", line: 2, column: 18,
                message: "cannot include \"\(folder.path)/missing.conf\": cannot read config file: No such file or directory")
        }
    }

    @Test("an error inside an included file names that file, line and column")
    func errorInIncludedFile() throws {
        try Self.withFolder([
            "main.conf": "stream {\n  include streams/*.conf;\n}\n",
            "streams/chat.conf": "upstream u { server 127.0.0.1:1; }\nserver {\n  listen 8000; proxy_pass u;\n  frobnicate on;\n}\n",
        ]) { folder in
            let error = try #require(folder.failure())
            #expect(error.description == "\(folder.path)/streams/chat.conf:4:3: unknown or unsupported directive \"frobnicate\" in \"server\"")
        }
    }

    @Test("a file that includes itself is stopped at a bounded depth, with the include's position")
    func loop() throws {
        try Self.withFolder([
            "main.conf": "include loop.conf;\nstream {}\n",
            "loop.conf": "worker_processes 1;\ninclude loop.conf;\n",
        ]) { folder in
            folder.expectRefused(
                in: "loop.conf", line: 2, column: 9, message: "nested more than \(ConfigIncludes.maximumDepth) files deep")
        }
    }

    @Test("include takes one argument and no block")
    func shape() throws {
        try Self.withFolder(["main.conf": "include a.conf b.conf;\n"]) { folder in
            #expect(folder.failure()?.message == "invalid number of arguments in \"include\" directive")
            try folder.write("main.conf", "include a.conf { }\n")
            #expect(folder.failure()?.message == "directive \"include\" has no block; end it with \";\"")
        }
    }
}
