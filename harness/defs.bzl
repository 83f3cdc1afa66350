"""checkpoint_scenario_test: replay scenario files as a sharded GoogleTest.

    load("@ckpt_harness//harness:defs.bzl", "checkpoint_scenario_test")

    checkpoint_scenario_test(
        name = "loader_scenarios",
        scenarios = glob(["scenarios/**/*.yaml"]),
        strategies = ["//loader:my_strategy"],  # cc_library, alwayslink = 1, HARNESS_REGISTER_STRATEGY
        data = ["//loader:load.py"],             # files the scenarios' commands: use
        shard_count = 4,
    )

Every cell of every file becomes one test case (<file>_<strategy>_<environment>);
Bazel's shards split them by case id as `replay --shard K/N` does. With
`strategies` (and `conformance` left True), `<name>_conformance` checks them
against the strategy contract (harness/strategy/strategy.h).
"""

load("@rules_cc//cc:defs.bzl", "cc_test")
load("//harness/strategy:defs.bzl", "strategy_conformance_test")

def checkpoint_scenario_test(name, scenarios, strategies = [], data = [], conformance = True, size = "medium", **kwargs):
    cc_test(
        name = name,
        size = size,
        args = ["$(rootpaths %s)" % s for s in scenarios],
        data = scenarios + data,
        deps = [Label("//harness/scenario_test:main")] + strategies,
        **kwargs
    )
    if strategies and conformance:
        strategy_conformance_test(
            name = name + "_conformance",
            strategies = strategies,
            tags = kwargs.get("tags", []),
        )
