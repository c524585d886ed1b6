import ArgumentParser
import Foundation

/// Runs a command's work; any error is printed as `error: <description>` (each module's errors name the file and
/// what is wrong) and the process exits with status 1, instead of a generic message.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
