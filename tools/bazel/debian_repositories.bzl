"""Bazel's own rule sets, taken from Debian's bazel-* packages.

Debian installs them under /usr/share/bazel (override with the environment
variable DEBIAN_BAZEL_SHARE). Declaring them here as local repositories keeps
Bazel from trying to download them.
"""

_DEFAULT_SHARE = "/usr/share/bazel"

def _share(rctx):
    return rctx.os.environ.get("DEBIAN_BAZEL_SHARE", _DEFAULT_SHARE)

def _copy_tree(rctx, src):
    if not rctx.path(src).exists:
        fail("%s not found: install Debian's bazel packages (tools/setup.sh) or set DEBIAN_BAZEL_SHARE" % src)
    result = rctx.execute(["cp", "-R", src + "/.", "."])
    if result.return_code != 0:
        fail("copying %s failed: %s" % (src, result.stderr))

def _debian_local_repository_impl(rctx):
    _copy_tree(rctx, _share(rctx) + "/" + rctx.attr.subdir)

debian_local_repository = repository_rule(
    implementation = _debian_local_repository_impl,
    attrs = {"subdir": attr.string(mandatory = True)},
    environ = ["DEBIAN_BAZEL_SHARE"],
    local = True,
)

# Debian ships rules_cc 0.0.4, whose compiler_flag.bzl and
# cc_flags_supplier.bzl load `use_cpp_toolchain` from
# @bazel_tools//tools/cpp:toolchain_utils.bzl. Bazel 4.2.3 (Debian's
# bazel-bootstrap) predates that helper, so the files fail to load. The helper
# only returns the C++ toolchain type label, so we copy the rule set and write
# that label in its place.
_USE_CPP_TOOLCHAIN_FILES = [
    "cc/private/rules_impl/compiler_flag.bzl",
    "cc/private/rules_impl/cc_flags_supplier.bzl",
]

def _patched_rules_cc_impl(rctx):
    _copy_tree(rctx, _share(rctx) + "/rules/cc")
    for path in _USE_CPP_TOOLCHAIN_FILES:
        text = rctx.read(path)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        rctx.file(path, text, executable = False)

patched_rules_cc = repository_rule(
    implementation = _patched_rules_cc_impl,
    environ = ["DEBIAN_BAZEL_SHARE"],
    local = True,
)

def _remote_coverage_tools_impl(rctx):
    # `bazel test` resolves @remote_coverage_tools even when coverage is off.
    # We never run `bazel coverage`, so these targets only say so.
    rctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    rctx.file("unsupported.sh", "#!/bin/sh\necho 'bazel coverage is not supported offline' >&2\nexit 1\n", executable = True)
    rctx.file("BUILD", "\n".join([
        'package(default_visibility = ["//visibility:public"])',
        'sh_binary(name = "coverage_report_generator", srcs = ["unsupported.sh"])',
        'sh_binary(name = "lcov_merger", srcs = ["unsupported.sh"])',
        "",
    ]))

remote_coverage_tools_stand_in = repository_rule(implementation = _remote_coverage_tools_impl)

def debian_bazel_repositories():
    patched_rules_cc(name = "rules_cc")
    debian_local_repository(name = "rules_java", subdir = "rules/java")
    debian_local_repository(name = "platforms", subdir = "tools/platforms")
    debian_local_repository(name = "bazel_skylib", subdir = "tools/skylib")
    remote_coverage_tools_stand_in(name = "remote_coverage_tools")
