"""reproml_course: the course's machinery around the ``reproml`` project.

``reproml`` is the ML project a researcher copies (data, models, training, tracking, the Hydra
entry point); this package is what only the course needs: the chapters' helpers
(``chapters``), the exercises' checks (``checks``), building, executing and grading the
notebooks (``authoring``), the class server and its leaderboard (``classroom``) and their
command lines (``cli``). It imports ``reproml``; ``reproml`` never imports it.
"""
