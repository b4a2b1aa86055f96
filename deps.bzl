"""Repositories a workspace needs to build @asyncjobs with Bazel 4 (WORKSPACE mode).

Bazel 4 has no transitive WORKSPACE dependencies, so a consumer declares them itself:

    local_repository(name = "asyncjobs", path = "/path/to/asyncjobs")  # or http_archive
    load("@asyncjobs//:deps.bzl", "asyncjobs_dependencies")
    asyncjobs_dependencies()

This declares `@system` (Debian's /usr: Boost.Context, Abseil, GoogleTest, Benchmark) and the
three offline stand-ins Bazel 4.2.3 asks for even for C++ builds (`@rules_cc`, `@rules_java`,
`@remote_coverage_tools`; see WORKSPACE). A repository the workspace already
declares is left alone.
"""

def _standin_impl(ctx):
    # Links every file of the stand-in's directory inside @asyncjobs, wherever it was fetched.
    directory = ctx.path(ctx.attr.workspace_file).dirname
    for entry in directory.readdir():
        ctx.symlink(entry, entry.basename)

_standin = repository_rule(
    implementation = _standin_impl,
    attrs = {"workspace_file": attr.label(allow_single_file = True)},
    local = True,
)

def asyncjobs_dependencies():
    """Declares @system, @rules_cc, @rules_java and @remote_coverage_tools if absent."""
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        if not native.existing_rule(name):
            _standin(
                name = name,
                workspace_file = Label("//third_party/%s:WORKSPACE" % name),
            )
    if not native.existing_rule("system"):
        native.new_local_repository(
            name = "system",
            path = "/usr",
            build_file = str(Label("//third_party/system:system.BUILD")),
        )
