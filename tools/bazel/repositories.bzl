"""Every repository the harness needs, in one call, for its own WORKSPACE and
for a user's (see examples/consumer/WORKSPACE):

    load("@ckpt_harness//tools/bazel:repositories.bzl", "ckpt_harness_repositories")
    ckpt_harness_repositories()
"""

load(":cuda_configure.bzl", "cuda_configure")
load(":debian_repositories.bzl", "debian_bazel_repositories")
load(":libtorch_configure.bzl", "libtorch_configure")

def ckpt_harness_repositories():
    debian_bazel_repositories()
    libtorch_configure(name = "libtorch")
    cuda_configure(name = "cuda")
