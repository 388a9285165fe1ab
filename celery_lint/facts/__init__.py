"""Phase 1: small, picklable facts read from each file, and the ProjectIndex that merges them."""
