"""Headless commands, one module each: ``add_arguments(parser)`` and ``run(args) -> int``.

They are imported only when named, so ``mxtui --help`` and each command start without loading
the others (and none of them imports textual).
"""
