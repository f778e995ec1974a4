"""``python -m amigrate``: the same as the ``amigrate`` command."""

from amigrate.cli import main

if __name__ == "__main__":
    main()
