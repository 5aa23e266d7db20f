import Foundation

/// Locates the project's shared test fixtures (`shared/fixtures/`, a sibling of the package
/// checkout) from a test file's `#filePath`.
public enum SharedFixtures {
    /// The `shared/fixtures/<subfolder>` directory for a test file at `testFile`
    /// (`<root>/Tests/<Target>/<File>.swift`). Throws when it does not exist, so a missing checkout
    /// fails the tests instead of skipping them.
    public static func directory(_ subfolder: String, testFile: String = #filePath) throws -> URL {
        let packageRoot = URL(fileURLWithPath: testFile)
            .deletingLastPathComponent()  // <Target>
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
        let directory = packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures")
            .appendingPathComponent(subfolder)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw MissingFixtures(path: directory.path)
        }
        return directory
    }

    /// The fixtures directory does not exist.
    public struct MissingFixtures: Error, CustomStringConvertible {
        /// The directory that was looked for.
        public let path: String
        public var description: String { "shared fixtures not found at \(path) (clone the repo beside shared/)" }
    }
}
