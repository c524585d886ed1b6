import ArgumentParser
import Foundation

/// Runs a command's work; any error is printed as `error: <description>` and the process exits with status 1.
/// Library errors name the file or setting; a setting is shown as the flag that sets it (`--lr: must be positive`).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(FlagNames.describe(error))\n".utf8))
        throw ExitCode.failure
    }
}
