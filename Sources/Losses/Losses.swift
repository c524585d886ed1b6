// The Losses module; see README.md ("Layout").
