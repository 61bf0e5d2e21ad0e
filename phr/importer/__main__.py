"""``python -m phr.importer convert|validate``: the same commands as ``phr import``."""
from .cli import main

if __name__ == "__main__":
    main()
