"""placeholder: filled by its nn op family."""

__all__ = []
FUNCTIONAL = []
