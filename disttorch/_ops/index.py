"""placeholder: filled by the index op family."""

__all__ = []
