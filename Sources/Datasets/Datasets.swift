// The Datasets module; see README.md ("Layout").
