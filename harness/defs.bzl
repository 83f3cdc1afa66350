"""checkpoint_scenario_test: replay scenario files as sharded GoogleTests, one per hardware part.

    load("@ckpt_harness//harness:defs.bzl", "checkpoint_scenario_test")

    checkpoint_scenario_test(
        name = "loader_scenarios",
        scenarios = glob(["scenarios/**/*.yaml"]),
        strategies = ["//loader:my_strategy"],  # cc_library, alwayslink = 1, HARNESS_REGISTER_STRATEGY
        data = ["//loader:load.py"],             # files the scenarios' commands: use
        shard_count = 4,                         # or per part: {"cpu": 4, "gpu_python": 2}
        exec_properties_by_tag = {"gpu": {"Pool": "gpu"}},  # remote execution
    )

Every cell of every file becomes one test case (<file>.<strategy>_<environment>).
The cells are split by the hardware they exercise (scenario::HardwarePart
in harness/scenario/scenario.h) into one cc_test per part, tagged for CI:

    <name>_cpu                  (no hardware tag)
    <name>_gpu                  gpu
    <name>_multi_gpu            gpu, multi-gpu
    <name>_driver_fault         driver-fault
    <name>_<part>_python        the part's tags, plus python

`<name>` is a test_suite of all of them, so `bazel test :<name>` runs every
cell and `--test_tag_filters=-gpu` / `=gpu` split the work between CPU and
GPU runners. A part none of the files needs runs one SKIPPED case that says
so. Within a part, Bazel's shards split the cells by case id as
`replay --shard K/N` does. `exec_properties_by_tag` gives a part the
properties of each of its tags ("*" applies to every part; later tags win),
so a remote-execution cluster routes GPU parts to GPU workers.

With `strategies` (and `conformance` left True), `<name>_conformance` checks
them against the strategy contract (harness/strategy/strategy.h).
"""

load("@rules_cc//cc:defs.bzl", "cc_test")
load("//harness/strategy:defs.bzl", "strategy_conformance_test")

# (part, tags): the device parts of scenario::HardwarePart; each also has a
# "<part>_python" variant tagged "python". The test main refuses a cell whose
# part is not generated here, so the two lists cannot drift silently.
_DEVICE_PARTS = [
    ("cpu", []),
    ("gpu", ["gpu"]),
    ("multi_gpu", ["gpu", "multi-gpu"]),
    ("driver_fault", ["driver-fault"]),
]

def _hardware_parts():
    parts = []
    for python in [False, True]:
        for part, tags in _DEVICE_PARTS:
            if python:
                parts.append((part + "_python", tags + ["python"]))
            else:
                parts.append((part, tags))
    return parts

def _exec_properties(tags, by_tag):
    properties = dict(by_tag.get("*", {}))
    for tag in tags:
        properties.update(by_tag.get(tag, {}))
    return properties

def checkpoint_scenario_test(
        name,
        scenarios,
        strategies = [],
        data = [],
        conformance = True,
        shard_count = None,
        exec_properties_by_tag = {},
        size = "medium",
        tags = [],
        **kwargs):
    parts = _hardware_parts()
    part_names = [part for part, _ in parts]
    if type(shard_count) == "dict":
        for part in shard_count:
            if part not in part_names:
                fail("shard_count names part '%s'; the parts are %s" % (part, ", ".join(part_names)))
    known_tags = {tag: True for _, part_tags in parts for tag in part_tags}
    for tag in exec_properties_by_tag:
        if tag != "*" and tag not in known_tags:
            fail("exec_properties_by_tag names tag '%s'; the tags are *, %s" % (tag, ", ".join(known_tags.keys())))
    tests = []
    for part, part_tags in parts:
        shards = shard_count.get(part) if type(shard_count) == "dict" else shard_count
        cc_test(
            name = name + "_" + part,
            size = size,
            args = [
                "--hardware_part=" + part,
                "--hardware_parts=" + ",".join(part_names),
            ] + ["$(rootpaths %s)" % s for s in scenarios],
            data = scenarios + data,
            deps = [Label("//harness/scenario_test:main")] + strategies,
            shard_count = shards,
            tags = tags + part_tags,
            exec_properties = _exec_properties(part_tags, exec_properties_by_tag),
            **kwargs
        )
        tests.append(":" + name + "_" + part)
    # No tags here: a test_suite's tags would filter its own tests.
    native.test_suite(name = name, tests = tests)
    if strategies and conformance:
        strategy_conformance_test(
            name = name + "_conformance",
            strategies = strategies,
            tags = tags,
        )
