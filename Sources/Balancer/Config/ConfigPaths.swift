/// How config paths are resolved: relative ones against a folder, as nginx resolves them against
/// its prefix (`-p`) and `include` against the main config file's folder.
enum ConfigPaths {
    static func absolute(_ path: String, in folder: String) -> String {
        if path.hasPrefix("/") { return path }
        if folder.isEmpty || folder == "." { return path }
        return folder.hasSuffix("/") ? folder + path : folder + "/" + path
    }

    /// The folder of `file` (`.` for a bare name).
    static func folder(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }
}
