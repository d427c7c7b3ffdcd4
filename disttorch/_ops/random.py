"""placeholder: filled by the random op family."""

__all__ = []
