"""Runtime stage: load every exported artifact with its own runtime, check accuracy, measure latency, report."""
