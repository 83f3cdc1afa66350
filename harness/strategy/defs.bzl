"""strategy_conformance_test: the strategy contract, checked for your own strategies.

    load("@ckpt_harness//harness/strategy:defs.bzl", "strategy_conformance_test")

    strategy_conformance_test(
        name = "my_strategy_conformance_test",
        strategies = [":my_strategy"],   # cc_library, alwayslink = 1, HARNESS_REGISTER_STRATEGY
    )

Every strategy registered by the linked libraries must pass
harness/strategy/conformance_test.cc (see strategy.h for the contract).
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

def strategy_conformance_test(name, strategies, size = "small", **kwargs):
    cc_test(
        name = name,
        size = size,
        deps = [Label("//harness/strategy:conformance")] + strategies,
        **kwargs
    )
