"""Reference bodies for course_lib/envs."""
