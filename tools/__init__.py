"""Tools beside the stages: the bench that checks every target, one-off studies, the README generator."""
