import Foundation

/// Reading one config file (the main one or an included one) into its directive tree.
enum ConfigFile {
    /// Reads `path` whole. Only a regular file is read: a FIFO, a device or a directory is refused
    /// at once, without waiting for a writer or reading an endless stream.
    static func read(_ path: String) throws(ConfigError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read config file: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read config file: not a regular file")
        }
        let data: Data
        do {
            data = try handle.read(upToCount: BalancerConfiguration.maximumFileSize + 1) ?? Data()
        } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read config file: \(error.localizedDescription)")
        }
        guard data.count <= BalancerConfiguration.maximumFileSize else {
            throw ConfigError(file: path, line: 0, column: 0, message: "config file is larger than \(BalancerConfiguration.maximumFileSize / 1024 / 1024) MiB")
        }
        return Array(data)
    }

    /// The directive tree of UTF-8 config bytes; `file` names them in errors.
    static func tree(_ bytes: [UInt8], file: String) throws(ConfigError) -> [ConfigDirective] {
        try ConfigTokenizer.requireUTF8(bytes, file: file)
        let tokens = try ConfigTokenizer.tokenize(bytes: bytes, file: file)
        return try ConfigDirective.parseTree(tokens, file: file)
    }
}

/// `include FILE|GLOB;`, allowed wherever a directive is: replaced by the directives of the files
/// it names before the tree is validated, so errors point into the included file. Relative paths
/// are found in the main config file's folder, as nginx does; a glob that matches nothing
/// includes nothing, a plain name that is missing is an error. The files are read in name order.
struct ConfigIncludes {
    let folder: String
    private(set) var files = 0

    /// Includes nest at most this deep: deeper is a file that includes itself.
    static let maximumDepth = 8
    /// And at most this many files in all.
    static let maximumFiles = 256

    init(folder: String) {
        self.folder = folder
    }

    mutating func expand(_ tree: [ConfigDirective], depth: Int = 0) throws(ConfigError) -> [ConfigDirective] {
        var expanded: [ConfigDirective] = []
        expanded.reserveCapacity(tree.count)
        for var directive in tree {
            guard directive.name == "include" else {
                if let block = directive.block {
                    directive.block = try expand(block, depth: depth)
                }
                expanded.append(directive)
                continue
            }
            let reader = ConfigReader(file: directive.file, prefix: folder)
            if directive.block != nil {
                throw reader.error(directive, "directive \"include\" has no block; end it with \";\"")
            }
            guard directive.arguments.count == 1 else {
                throw reader.error(directive, "invalid number of arguments in \"include\" directive")
            }
            let argument = directive.arguments[0]
            try reader.requireVisible(argument, in: directive)
            if depth >= Self.maximumDepth {
                throw reader.error(argument, "\"include\" is nested more than \(Self.maximumDepth) files deep; does a file include itself?")
            }
            for path in try paths(argument, reader) {
                files += 1
                if files > Self.maximumFiles {
                    throw reader.error(argument, "more than \(Self.maximumFiles) files are included")
                }
                let bytes: [UInt8]
                do {
                    bytes = try ConfigFile.read(path)
                } catch {
                    throw reader.error(argument, "cannot include \"\(ConfigError.shown(path))\": \(error.message)")
                }
                expanded += try expand(try ConfigFile.tree(bytes, file: path), depth: depth + 1)
            }
        }
        return expanded
    }

    /// The files an `include` names, in name order.
    private func paths(_ argument: ConfigDirective.Argument, _ reader: ConfigReader) throws(ConfigError) -> [String] {
        let pattern = try reader.path(argument)
        guard pattern.contains(where: { "*?[".contains($0) }) else { return [pattern] }
        var matches = glob_t()
        defer { globfree(&matches) }
        switch glob(pattern, 0, nil, &matches) {
        case 0:
            return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
        case GLOB_NOMATCH:
            return []
        default:
            throw reader.error(argument, "cannot include \"\(ConfigError.shown(pattern))\": the pattern could not be read")
        }
    }
}
