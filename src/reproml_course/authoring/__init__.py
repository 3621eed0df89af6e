"""Course tools for instructors: build the student notebooks, execute and grade notebooks."""
