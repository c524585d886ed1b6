// The Criterion module; see README.md ("Layout").
