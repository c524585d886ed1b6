import Foundation

// One libFuzzer binary for every harness: `fuzz NAME [libFuzzer options] CORPUS…` (tools/fuzz). The harness runs
// each input through one parser; a thrown error is the expected outcome of bad input, anything else (a trap, an
// AddressSanitizer report, a timeout) is a finding.

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var arguments = CommandLine.arguments
guard arguments.count >= 2, let harness = Harness.named(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: fuzz NAME [libFuzzer options] [CORPUS…]; NAME: \(Harness.all.map(\.name).joined(separator: ", "))\n".utf8))
    exit(2)
}
Harness.current = harness
arguments.remove(at: 1)
var argc = Int32(arguments.count)
var cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
let status = cStrings.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
        Harness.current?.run(bytes)
        return 0
    }
}
exit(status)
