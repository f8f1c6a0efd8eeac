"""The Textual skin: the only package that imports textual."""
