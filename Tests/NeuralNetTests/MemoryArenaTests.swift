import NeuralNet
import XCTest

/// `MemoryArena.configure()`: a large block freed and allocated again comes back without page faults.
final class MemoryArenaTests: XCTestCase {
    /// Sum of a fresh 48 MiB array, so that every page is written and read.
    @inline(never)
    func touch(_ count: Int) -> Float {
        let a = [Float](repeating: 1, count: count)
        return a[count / 2] + a[count - 1]
    }

    /// After `configure()`, the second allocation of a 48 MiB tensor (12 288 pages) reuses the first one's
    /// pages: fewer than 5 % of its pages fault (with glibc's defaults it is mmap'd afresh and every page faults).
    func testReusedBlockDoesNotFault() throws {
        #if !canImport(Glibc)
        throw XCTSkip("the heap arena is configured through glibc's mallopt")
        #else
        guard MemoryArena.configure() else {
            throw XCTSkip("the arena settings are not in effect (DETECTOR_SYSTEM_ALLOCATOR is set, or a sanitizer's allocator replaces glibc's)")
        }
        let count = 12 << 20, pages = count * 4 / 4096
        XCTAssertEqual(touch(count), 2)
        let before = ResourceUsage.now()
        XCTAssertEqual(touch(count), 2)
        let faults = ResourceUsage.now().since(before).minorFaults
        XCTAssertLessThan(faults, pages / 20, "\(faults) minor faults re-allocating \(pages) pages")
        #endif
    }
}
