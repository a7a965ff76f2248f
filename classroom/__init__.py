"""The teacher's tools, beside the learner's course_lib: the student release, the sandboxed
autograder and the Gradescope bundle. Not shipped in the student copy."""
