import Foundation

extension SafeTensors {
    /// Writes every parameter's value under its dotted name, in the given order, atomically (see
    /// `write(_:metadata:to:)`). A checkpoint in this form loads in PyTorch with `safetensors.torch.load_file`.
    public static func write(parameters: [Parameter], metadata: [String: String] = [:], to url: URL) throws {
        try write(parameters.map { ($0.name, $0.value) }, metadata: metadata, to: url)
    }

    /// Copies `tensors[p.name]` into each parameter's value, after checking every name and shape first, so that
    /// a failure changes nothing.
    ///
    /// Throws `SafeTensorsError.missingTensor` when a parameter has no tensor, `.shapeMismatch` when shapes
    /// differ, and, when `strict`, `.unexpectedTensor` for a tensor no parameter takes. `file` names the source
    /// in messages.
    public static func assign(
        _ tensors: [String: Tensor], to parameters: [Parameter], strict: Bool = false, file: String
    ) throws {
        for p in parameters {
            guard let t = tensors[p.name] else { throw SafeTensorsError.missingTensor(file: file, tensor: p.name) }
            guard t.shape == p.value.shape else {
                throw SafeTensorsError.shapeMismatch(
                    file: file, tensor: p.name, expected: p.value.shape, found: t.shape)
            }
        }
        if strict {
            let taken = Set(parameters.map(\.name))
            if let extra = tensors.keys.sorted().first(where: { !taken.contains($0) }) {
                throw SafeTensorsError.unexpectedTensor(file: file, tensor: extra)
            }
        }
        for p in parameters { p.value = tensors[p.name]! }
    }

    /// Reads `url` and assigns its tensors to `parameters` (see `assign(_:to:strict:file:)`); returns the
    /// file's metadata.
    @discardableResult
    public static func load(_ url: URL, into parameters: [Parameter], strict: Bool = false) throws -> [String: String] {
        let contents = try read(url)
        try assign(contents.tensors, to: parameters, strict: strict, file: url.path)
        return contents.metadata
    }
}
