"""The embedded stack's state kept on disk, so that a stop of any kind loses no acknowledged write
(docs/local-stack.md, "What the stack keeps")."""
