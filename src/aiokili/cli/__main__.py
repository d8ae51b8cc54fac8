"""``python -m aiokili.cli``."""

from . import main

main()
