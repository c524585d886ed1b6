import Foundation

/// The JSON header of a safetensors file: parsing (strict, every failure a `SafeTensorsError`) and encoding.
extension SafeTensors {
    /// One tensor's header entry.
    struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    /// A parsed header: tensor entries in the order found, and the metadata map.
    struct Header {
        var entries: [(name: String, entry: Entry)] = []
        var metadata: [String: String] = [:]
    }

    /// Parses the header bytes (UTF-8 JSON, possibly space-padded).
    static func parseHeader(_ json: Data, file: String) throws -> Header {
        do {
            return try JSONDecoder().decode(HeaderDecoding.self, from: json).header
        } catch let failure as EntryFailure {
            if failure.name == metadataKey {
                throw SafeTensorsError.invalidMetadata(file: file, reason: failure.reason)
            }
            throw SafeTensorsError.invalidHeader(file: file, tensor: failure.name, reason: failure.reason)
        } catch {
            throw SafeTensorsError.invalidHeader(file: file, tensor: nil, reason: describe(error))
        }
    }

    /// The reserved key of the metadata map.
    static let metadataKey = "__metadata__"

    /// Header JSON for tensors laid out back to back in the given order, metadata keys sorted, padded with
    /// spaces to a multiple of 8 bytes.
    static func encodeHeader(_ items: [(name: String, shape: [Int])], metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }
            parts.append("\(quoted(metadataKey)):{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for (name, shape) in items {
            let end = offset + 4 * shape.reduce(1, *)
            let dims = shape.map(String.init).joined(separator: ",")
            parts.append("\(quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array("{\(parts.joined(separator: ","))}".utf8)
        while bytes.count % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
        return bytes
    }

    /// `s` as a JSON string literal: quotes, backslashes and control characters escaped, other text kept.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A short readable account of a decoding error (the coding path and what was expected).
    private static func describe(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .keyNotFound(_, context),
             let .dataCorrupted(context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            let detail = context.debugDescription
            return path.isEmpty ? detail : "\(path): \(detail)"
        @unknown default:
            return "\(decoding)"
        }
    }

    /// A decoding failure inside one named entry.
    private struct EntryFailure: Error {
        var name: String
        var reason: String
    }

    /// Any JSON object key.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes the top-level object entry by entry, so that a failure names its entry.
    private struct HeaderDecoding: Decodable {
        var header = Header()

        init(from decoder: Decoder) throws {
            let object = try decoder.container(keyedBy: AnyKey.self)
            for key in object.allKeys {
                do {
                    if key.stringValue == SafeTensors.metadataKey {
                        header.metadata = try object.decode([String: String].self, forKey: key)
                    } else {
                        header.entries.append((key.stringValue, try object.decode(Entry.self, forKey: key)))
                    }
                } catch {
                    throw EntryFailure(name: key.stringValue, reason: SafeTensors.describe(error))
                }
            }
        }
    }
}
