// The Detection module; see README.md ("Layout").
