import ArgumentParser
import Training

/// Settings of the run (`TrainSettings`) that have a flag; nil unless given.
struct ScheduleOptions: ParsableArguments {
    @Option(help: "Epochs to train (default: 30, or 12 minutes on the synthetic default).")
    var epochs: Int?
    @Option(help: "Wall-clock budget in minutes; the learning-rate schedule follows it.")
    var minutes: Double?
    @Option(help: "Images per step (default \(TrainSettings().batchSize)).")
    var batchSize: Int?
    @Option(help: "Peak AdamW learning rate (default \(TrainSettings().learningRate)).")
    var lr: Double?
    @Option(help: "AdamW weight decay (default \(TrainSettings().weightDecay)).")
    var weightDecay: Double?
    @Option(help: "Linear learning-rate warmup steps (default \(TrainSettings().warmupSteps)).")
    var warmupSteps: Int?
    @Option(help: "Seed of initialisation, data order and augmentation (default \(TrainSettings().seed)).")
    var seed: UInt64?
    @Option(help: "Evaluate on the validation split every N epochs (0: only at the end; default \(TrainSettings().evalEvery)).")
    var evalEvery: Int?
    @Flag(inversion: .prefixedNo, help: "Random flips, scale jitter and colour jitter on training images (default on).")
    var augment: Bool?
    @Option(help: "Probability of a vertical flip of a training image, for data without an up (cells, aerial views; ultralytics' flipud; default \(TrainSettings().verticalFlip)).")
    var verticalFlip: Double?
    @Option(help: "Random scale amplitude: training images are scaled by U(1 - s, 1 + s) (ultralytics' scale; default \(TrainSettings().scaleJitter)).")
    var scaleJitter: Double?
    @Option(help: "Probability that a training image is a mosaic of itself and three others (YOLOv4's mosaic; default \(Preset.defaultMosaic) with --data, 0 on the generated data and with --config reference).")
    var mosaic: Double?
    @Option(help: "Fraction of the schedule, at its end, trained without mosaics (ultralytics' close_mosaic, in epochs there; default \(TrainSettings().closeMosaic): mosaics to the end).")
    var closeMosaic: Double?
    @Option(help: ArgumentHelp("Probability that a training sample is blended with a second one, pixels mixed by a "
        + "Beta(32, 32) ratio and the boxes of both kept (mixup, as ultralytics applies it; ended with the mosaics by "
        + "--close-mosaic; default \(TrainSettings().mixup))."))
    var mixup: Double?
    @Option(help: ArgumentHelp("Probability that objects of another training image, prepared the same way, are "
        + "pasted onto a sample at their own place, each as its box's rectangle, half of them offered and none hiding "
        + "more than 30% of a box already there (copy-paste, Ghiasi et al. 2021, with boxes for masks; ended with the "
        + "mosaics by --close-mosaic; default \(TrainSettings().copyPaste))."))
    var copyPaste: Double?
    @Option(help: "Save last.safetensors every N steps (500) or minutes (10m) as well as at the end (default: every epoch).")
    var saveEvery: SaveInterval?
    @Flag(inversion: .prefixedNo,
          help: "At the end, also validate at input sides 7/8, 9/8 and 5/4 of the trained one and store the best for detect, evaluate and export (default on; off with --config reference).")
    var chooseInputSize: Bool?
    @Flag(inversion: .prefixedNo, help: ArgumentHelp("Train on an image lacking a class that 90% or more of the "
        + "training images hold (as `detector dataset stats` lists them) as if that class were only partly labelled "
        + "there: the dense head's scores of it in that image are not counted against the network (default off). LVIS-style "
        + "not_exhaustive_category_ids and neg_category_ids in a COCO file always count."))
    var partialLabels: Bool?

    /// The values given, as a patch over the run's settings.
    var patch: SettingPatch<TrainSettings> {
        var p = SettingPatch<TrainSettings>()
        if let v = epochs { p.set(.epochs, \.epochs, v) }
        if let v = minutes { p.set(.minutes, \.minutes, v) }
        if let v = batchSize { p.set(.batchSize, \.batchSize, v) }
        if let v = lr { p.set(.learningRate, \.learningRate, v) }
        if let v = weightDecay { p.set(.weightDecay, \.weightDecay, v) }
        if let v = warmupSteps { p.set(.warmupSteps, \.warmupSteps, v) }
        if let v = seed { p.set(.seed, \.seed, v) }
        if let v = evalEvery { p.set(.evalEvery, \.evalEvery, v) }
        if let v = augment { p.set(.augment, \.augment, v) }
        if let v = verticalFlip { p.set(.verticalFlip, \.verticalFlip, v) }
        if let v = scaleJitter { p.set(.scaleJitter, \.scaleJitter, v) }
        if let v = mosaic { p.set(.mosaic, \.mosaic, v) }
        if let v = closeMosaic { p.set(.closeMosaic, \.closeMosaic, v) }
        if let v = mixup { p.set(.mixup, \.mixup, v) }
        if let v = copyPaste { p.set(.copyPaste, \.copyPaste, v) }
        if let v = saveEvery { p.set(.saveEvery, \.saveEvery, v) }
        if let v = chooseInputSize { p.set(.chooseInputSize, \.chooseInputSize, v) }
        if let v = partialLabels { p.set(.partialLabels, \.partialLabels, v) }
        return p
    }
}
