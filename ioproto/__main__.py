"""``python -m ioproto`` is the ``ioproto`` command."""

from ioproto.cli import main

if __name__ == "__main__":
    main()
