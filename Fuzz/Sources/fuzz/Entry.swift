import Foundation

// One libFuzzer binary for every harness, chosen by DETECTOR_FUZZ=NAME (tools/fuzz sets it). libFuzzer provides
// `main` (SwiftPM compiles the target as a library under --sanitize=fuzzer) and calls the two functions below. A
// thrown error is the expected answer to bad input; a trap, an AddressSanitizer report or a timeout is a finding.

/// Picks the harness before the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["DETECTOR_FUZZ"] ?? ""
    guard let harness = Harness.named(name) else {
        FileHandle.standardError.write(Data("set DETECTOR_FUZZ to one of: \(Harness.all.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    Harness.current = harness
    return 0
}

/// Runs one input through the chosen harness.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    Harness.current?.run(bytes)
    return 0
}
