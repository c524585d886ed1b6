// The Matching module; see README.md ("Layout").
