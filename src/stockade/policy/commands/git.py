"""``git``: the zone of each subcommand, and the config keys that make git run a program.

``git -c core.pager=…`` or ``git config alias.x '!…'`` turn a read into running code,
so setting such a key is BUILD whatever the subcommand.
"""

from __future__ import annotations

import posixpath
import re

from stockade.decision import Zone
from stockade.policy.commands.arguments import Cmd, Opts, expand
from stockade.policy.commands.results import Result, zoned

_GIT: dict[str, Zone] = dict.fromkeys(
    "status log diff show blame rev-parse ls-files ls-tree grep shortlog describe cat-file "
    "rev-list whatchanged name-rev merge-base show-ref for-each-ref count-objects check-ignore "
    "check-attr version help var cherry show-branch fsck verify-commit verify-tag range-diff "
    "annotate archive".split(),
    Zone.SAFE,
)
_GIT |= dict.fromkeys("push pull fetch clone ls-remote".split(), Zone.NETWORK)
_GIT |= dict.fromkeys(
    "commit add checkout switch restore reset merge rebase rm mv init apply am cherry-pick "
    "revert clean gc prune repack bisect sparse-checkout update-index format-patch stage "
    "update-ref commit-tree read-tree checkout-index pack-refs replace filter-branch maintenance "
    "worktree notes stash tag branch remote submodule reflog".split(),
    Zone.WORKSPACE,
)
_GIT["send-email"] = Zone.EXTERNAL
_GIT_EXEC_KEY = re.compile(
    r"(?i)core\.(sshcommand|pager|hookspath|fsmonitor|editor|gitproxy|askpass)|alias\.|"
    r"credential\.|diff\..*\.(textconv|command)|filter\.|sequence\.editor|gpg\.program|"
    r"uploadpack\.|protocol\.|url\."
)
_GIT_LISTS = {"stash": ("list", "show"), "worktree": ("list",), "notes": ("list", "show")}
_GIT_LISTS |= {"submodule": ("status", "summary"), "remote": ("show", "get-url")}
_GIT_MODIFY = {  # options that make branch/tag change refs instead of listing them
    "branch": ("-d", "-D", "-m", "-M", "-c", "-C", "-f", "-u", "--delete", "--move", "--copy"),
    "tag": ("-d", "-a", "-s", "-f", "-m", "-u", "--delete", "--annotate", "--sign"),
}


def git(c: Cmd) -> Result:
    args, i, cwd, exec_config = c.args, 0, ".", False
    while i < len(args) and args[i].startswith("-"):
        flag, _, attached = args[i].partition("=")
        value = attached or (args[i + 1] if i + 1 < len(args) else "")
        if flag in ("-C", "--work-tree"):
            cwd = posixpath.join(cwd, expand(value, c.home))
        exec_config |= flag in ("-c", "--config-env") and bool(_GIT_EXEC_KEY.match(value))
        i += 2 if not attached and flag in ("-C", "-c", "--git-dir", "--work-tree",
                                              "--namespace", "--config-env") else 1  # fmt: skip
    sub, o = (args[i], Opts(args[i + 1 :], "fF")) if i < len(args) else ("", Opts(()))
    if sub == "config":
        result = _git_config(c, o, cwd)
    else:
        zone = _GIT.get(sub, Zone.BUILD) if sub else Zone.SAFE
        first = o.operands[0] if o.operands else ""
        if sub in _GIT_LISTS and (not first or first in _GIT_LISTS[sub]) and sub != "stash":
            zone = Zone.SAFE
        elif sub in ("stash", "reflog") and first in _GIT_LISTS["stash"] + ("", "exists") * (
            sub == "reflog"
        ):
            zone = Zone.SAFE
        elif (
            sub in _GIT_MODIFY
            and not o.has(*_GIT_MODIFY[sub])
            and (not o.operands or o.has("-l", "--list"))
        ):
            zone = Zone.SAFE
        elif (sub, first) in (("remote", "update"), ("submodule", "update"), ("submodule", "add")):
            zone = Zone.NETWORK
        elif sub == "archive" and "--remote" in o.longs:
            zone = Zone.NETWORK
        writes = [cwd] if zone is Zone.WORKSPACE or sub == "pull" else []
        if sub == "clone" and o.operands:
            writes = [o.operands[1] if len(o.operands) > 1 else _repo_dir(o.operands[0])]
        forced = sub == "push" and (o.has("-f", "--force", "--force-with-lease") or "+" in first)
        what = f"git {sub} --force" if forced else f"git {sub}".strip()
        name = f"git-{sub}" if sub in _GIT else "git"
        result = zoned(zone, name, what, writes=c.paths(writes))
    if exec_config:
        result.floor(Zone.BUILD, "shell.build.git-config", "git -c sets a key that runs a program")
    return result


def _repo_dir(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name[:-4] if name.endswith(".git") else name


def _git_config(c: Cmd, o: Opts, cwd: str) -> Result:
    words = (
        o.operands[1:] if o.operands[:1] in (["get"], ["set"], ["unset"], ["list"]) else o.operands
    )
    changing = o.operands[:1] in (["set"], ["unset"]) or o.has(
        "--unset", "--unset-all", "--add", "--replace-all", "--remove-section", "--rename-section",
        "-e", "--edit",
    )  # fmt: skip
    if not changing and (
        len(words) < 2 or o.has("-l", "--list", "--get", "--get-all", "--get-regexp")
    ):
        return zoned(Zone.SAFE, "git-config", "git config (read)")
    target = posixpath.join(cwd, ".git/config")
    if o.has("--global"):
        target = c.home + "/.gitconfig"
    elif o.has("--system"):
        target = "/etc/gitconfig"
    target = o.values.get("-f") or o.values.get("--file") or target
    key = words[0] if words else ""
    if _GIT_EXEC_KEY.match(key):
        reason = f"git config sets {key}, which runs a program"
        return Result(Zone.BUILD, "shell.git.config-exec", reason, writes=c.paths([target]))
    return Result(
        Zone.WORKSPACE, "shell.git.config", f"git config sets {key}", writes=c.paths([target])
    )
