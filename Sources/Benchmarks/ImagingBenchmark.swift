import Foundation
import Imaging

/// Throughput of the image input pipeline: PNG decode, bilinear resize, conversion to normalised planar floats.
public enum ImagingBenchmark {
    /// Timings of one run over a folder of PNGs.
    public struct Result: Sendable, CustomStringConvertible {
        /// Number of images processed.
        public var images: Int
        /// Mean source size in megapixels.
        public var megapixelsPerImage: Double
        /// Target size of the resize.
        public var targetWidth: Int, targetHeight: Int
        /// Seconds spent in `PNG.read`, `Image.resized` and `Image.writeCHWFloat`.
        public var decodeSeconds: Double, resizeSeconds: Double, convertSeconds: Double
        /// Seconds spent in `Image.resized(width:height:antialias: true)` (not part of the pipeline figure).
        public var antialiasedResizeSeconds: Double

        /// Images per second through decode alone.
        public var decodePerSecond: Double { Double(images) / decodeSeconds }
        /// Images per second through resize alone.
        public var resizePerSecond: Double { Double(images) / resizeSeconds }
        /// Images per second through decode + resize + float conversion.
        public var pipelinePerSecond: Double { Double(images) / (decodeSeconds + resizeSeconds + convertSeconds) }

        /// One line per stage with images/s.
        public var description: String {
            String(format: """
                %d images, %.2f MP each → %d×%d
                decode        %8.1f images/s
                resize        %8.1f images/s
                resize (AA)   %8.1f images/s
                to CHW float  %8.1f images/s
                pipeline      %8.1f images/s (single thread)
                """, images, megapixelsPerImage, targetWidth, targetHeight, decodePerSecond, resizePerSecond,
                Double(images) / antialiasedResizeSeconds, Double(images) / convertSeconds, pipelinePerSecond)
        }
    }

    /// Decodes up to `limit` `.png` files of `folder` (sorted by name), resizes each to `width × height` (both
    /// plain and antialiased) and converts the plain result to planar floats, timing each stage on the calling
    /// thread. Throws `ImagingError` for a broken file and `CocoaError` when the folder cannot be listed.
    public static func run(folder: URL, limit: Int = 100, width: Int = 320, height: Int = 320) throws -> Result {
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension.lowercased() == "png" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .prefix(limit)
        var decode = 0.0, resize = 0.0, antialiased = 0.0, convert = 0.0, pixels = 0
        var planes = [Float](repeating: 0, count: 3 * width * height)
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        for url in files {
            var image = Image(width: 0, height: 0)
            decode += seconds(try clock.measure { image = try PNG.read(url) })
            pixels += image.width * image.height
            var small = image
            antialiased += seconds(clock.measure {
                small = image.resized(width: width, height: height, antialias: true)
            })
            resize += seconds(clock.measure { small = image.resized(width: width, height: height) })
            convert += seconds(clock.measure {
                planes.withUnsafeMutableBufferPointer { small.writeCHWFloat(into: $0.baseAddress!) }
            })
        }
        return Result(
            images: files.count, megapixelsPerImage: files.isEmpty ? 0 : Double(pixels) / Double(files.count) / 1e6,
            targetWidth: width, targetHeight: height,
            decodeSeconds: decode, resizeSeconds: resize, convertSeconds: convert,
            antialiasedResizeSeconds: antialiased)
    }
}
