// The Boxes module; see README.md ("Layout").
