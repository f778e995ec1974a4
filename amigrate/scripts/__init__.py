"""Files: read a versions directory with ``ast``, load one module, write new ones."""
