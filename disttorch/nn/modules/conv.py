"""placeholder: filled by its nn family."""

__all__ = []
