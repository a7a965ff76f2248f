"""Reference solutions of the course's exercises.

Each module mirrors a ``course_lib`` module and defines its exercises under the same names
and signatures. Calls reach these bodies only through ``course_lib``'s exercise wrappers
(``use_reference`` or ``COURSE_LIB_REFERENCE``), which check the inputs first. This folder
is not part of the student release.
"""
