import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest
@testable import Training

/// `--save-every`: steps or minutes, from the command line's text and from a `--config` file, validated, stored in
/// the checkpoint's settings and changeable on resume.
final class SaveIntervalTests: XCTestCase {
    func testParsesStepsAndMinutesAndRefusesTheRest() {
        XCTAssertEqual(SaveInterval(text: "500"), .steps(500))
        XCTAssertEqual(SaveInterval(text: "10m"), .minutes(10))
        XCTAssertEqual(SaveInterval(text: "1.5m"), .minutes(1.5))
        for bad in ["0", "-3", "0m", "m", "10s", "", "infm", "1e3"] { XCTAssertNil(SaveInterval(text: bad), bad) }
        XCTAssertEqual(SaveInterval.minutes(10).description, "10m")
        XCTAssertTrue(SaveInterval.steps(2).isDue(stepsSince: 2, secondsSince: 0))
        XCTAssertFalse(SaveInterval.steps(2).isDue(stepsSince: 1, secondsSince: 1e6))
        XCTAssertTrue(SaveInterval.minutes(1).isDue(stepsSince: 1, secondsSince: 60))
        XCTAssertFalse(SaveInterval.minutes(1).isDue(stepsSince: 0, secondsSince: 600), "no step, nothing new to save")
    }

    func testConfigFileValuesRoundTripAndBadOnesNameTheKey() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = TrainOptions()
        o.data = DetectorFixtures.sample.appendingPathComponent("train.json")
        for (value, expected) in [(500 as Any, SaveInterval.steps(500)), ("10m", .minutes(10)), ("7", .steps(7))] {
            let url = dir.appendingPathComponent("c.json")
            try JSONSerialization.data(withJSONObject: ["saveEvery": value]).write(to: url)
            o.config = url
            let t = try RunConfiguration.resolve(o, classes: ["a"]).training
            XCTAssertEqual(t.saveEvery, expected)
            let decoded = try JSONDecoder().decode(TrainSettings.self, from: Data(t.jsonString().utf8))
            XCTAssertEqual(decoded.saveEvery, expected, "checkpoint metadata round trip")
        }
        let url = dir.appendingPathComponent("bad.json")
        try JSONSerialization.data(withJSONObject: ["saveEvery": "ten"]).write(to: url)
        o.config = url
        XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) {
            XCTAssertTrue("\($0)".contains("saveEvery") && "\($0)".contains("10m"), "\($0)")
        }
        var zero = TrainSettings()
        zero.saveEvery = .steps(0)
        XCTAssertThrowsError(try zero.validate()) { XCTAssertEqual(($0 as? TrainingError)?.settingKey, "saveEvery") }
    }
}
