"""Verifiable tasks: the families that generate them, their record schema, decontamination and the task pools."""

# The task families, in the order tables list them; each has a generator in r1.tasks.families and a verifier in
# r1.verify.
FAMILIES = ("math", "countdown", "code")

# Layouts of local task files (`tasks.sources`, read by r1.tasks.imports): layout -> (the family its rows become, the
# fields every row needs, optional fields). A field is read from the column of its name unless `columns` maps it.
LAYOUTS = {
    "gsm8k": ("math", ("question", "answer"), ("id",)),
    "countdown": ("countdown", ("nums", "target"), ("id",)),
    "code": ("code", ("prompt", "test", "entry_point"), ("canonical_solution", "id")),
}
# The column an `id` is read from by default (HumanEval and MBPP call it task_id); without it, ids are row numbers.
DEFAULT_ID_COLUMN = {"gsm8k": "id", "countdown": "id", "code": "task_id"}
