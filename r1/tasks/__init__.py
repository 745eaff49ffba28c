"""Verifiable tasks: the families that generate them, their record schema, decontamination and the task pools."""

# The task families, in the order tables list them; each has a generator in r1.tasks.families and a verifier in
# r1.verify.
FAMILIES = ("math", "countdown", "code")
