// The Evaluation module; see README.md ("Layout").
