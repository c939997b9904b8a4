"""A page that raises: the warm visitor must report it, not hang."""

raise ValueError("this page is broken on purpose")
