import Foundation
import XCTest

/// Paths to test data: the fixtures committed under `Tests/Fixtures` and the optional `../shared` folder.
public enum Fixtures {
    /// The package root (the folder holding `Package.swift`).
    public static let packageRoot: URL = {
        // This file is Tests/TestSupport/Fixtures.swift.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }()

    /// `Tests/Fixtures/<relative>`.
    public static func url(_ relative: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative)
    }

    /// Parsed JSON of `Tests/Fixtures/<relative>`.
    public static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(relative)), options: [.fragmentsAllowed])
    }

    /// `../shared/<relative>` beside the package root, or an `XCTSkip` when it is absent (clean clones
    /// without the shared data skip these integration tests).
    public static func shared(_ relative: String) throws -> URL {
        let candidates = [
            ProcessInfo.processInfo.environment["DETECTOR_SHARED"].map { URL(fileURLWithPath: $0) },
            packageRoot.deletingLastPathComponent().appendingPathComponent("shared"),
        ].compactMap { $0 }
        for base in candidates {
            let u = base.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: u.path) { return u }
        }
        throw XCTSkip("../shared/\(relative) is not present")
    }

    /// A new empty temporary folder, removed with its contents when the running test case finishes.
    public static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("detector-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        TestCaseCleanup.shared.add { try? FileManager.default.removeItem(at: u) }
        return u
    }
}

/// Work to do once the running test case has finished (remove a temporary folder, unmount a file system), done
/// last-added first, so that what was made inside a folder is undone before the folder goes.
final class TestCaseCleanup: NSObject, XCTestObservation, @unchecked Sendable {
    static let shared: TestCaseCleanup = {
        let observer = TestCaseCleanup()
        XCTestObservationCenter.shared.addTestObserver(observer)
        return observer
    }()

    private let lock = NSLock()
    private var actions: [() -> Void] = []

    /// Runs `action` when the running test case finishes.
    func add(_ action: @escaping () -> Void) {
        lock.lock()
        actions.append(action)
        lock.unlock()
    }

    func testCaseDidFinish(_ testCase: XCTestCase) {
        lock.lock()
        let done = actions
        actions = []
        lock.unlock()
        for action in done.reversed() { action() }
    }
}
