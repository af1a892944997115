"""Which handler judges a program, and the zone of each program that needs no handler.

A program named in neither table is unknown, and the analysis assumes it runs code.
"""

from __future__ import annotations

from stockade.decision import Zone
from stockade.policy.commands.arguments import Handler
from stockade.policy.commands.files import (
    chmod,
    compress,
    copy,
    dd,
    disk,
    find,
    grep,
    jq,
    patch,
    reader,
    rm,
    script_filter,
    tar,
    writer,
)
from stockade.policy.commands.git import git
from stockade.policy.commands.interpreters import python
from stockade.policy.commands.machine import kill, package_db, system
from stockade.policy.commands.network import curl, docker, gh, transfer
from stockade.policy.commands.results import Result
from stockade.policy.commands.tools import TOOL_ALIASES, TOOLS, tool

PROGRAMS: dict[str, Zone] = dict.fromkeys(
    "echo printf pwd which type whereis date whoami id uname true false test [ [[ seq sleep cd "
    "export set unset local declare readonly typeset alias unalias shift exit return wait jobs "
    "fg bg disown umask ulimit hash read pushd popd dirs : env printenv history clear reset tput "
    "man help info basename dirname hostname uptime ps pgrep top htop free nproc arch locale "
    "groups who w tty expr let cal yes getconf lscpu lsblk lsof df mktemp logname sw_vers tr "
    "command time exec apt-cache pbpaste wl-paste xargs watch parallel flock trap script "
    "nohup eval".split(),
    Zone.SAFE,
)
PROGRAMS |= dict.fromkeys(
    "make cmake ninja meson bazel bazelisk just task node deno pytest py.test tox nox gradle "
    "gradlew mvn mvnw ant sbt tsc jest vitest mocha playwright cypress ruff mypy pyright black "
    "isort flake8 pylint bandit eslint prettier biome rustc rustfmt gcc g++ clang clang++ cc c++ "
    "ld javac java kotlinc dotnet swift swiftc xcodebuild ruby php lua rscript julia ghc stack "
    "cabal mix zig dart flutter pre-commit coverage hatch rye pdm pipenv tsx ts-node vite "
    "webpack rollup esbuild turbo nx lerna ctest gdb lldb valgrind source .".split(),
    Zone.BUILD,
)
PROGRAMS |= dict.fromkeys(
    "http https xh aria2c fetch lynx w3m ping ping6 traceroute tracepath mtr whois npx pnpx "
    "bunx uvx twine".split(),
    Zone.NETWORK,
)
PROGRAMS |= dict.fromkeys(
    "ssh sftp nc ncat netcat socat telnet ftp kubectl helm gcloud gsutil aws az mail mailx "
    "sendmail mutt msmtp ssh-copy-id open xdg-open nmap heroku fly flyctl vercel netlify "
    "firebase doctl ansible ansible-playbook rclone s3cmd mosh rsh".split(),
    Zone.EXTERNAL,
)
PROGRAMS |= dict.fromkeys(
    "sudo doas su pkexec runuser service launchctl mount umount iptables ip6tables nft ufw "
    "firewall-cmd useradd userdel usermod groupadd groupdel passwd chpasswd visudo pkill "
    "killall modprobe insmod rmmod sysctl osascript chroot nsenter unshare setcap swapon "
    "swapoff hostnamectl timedatectl loginctl csrutil spctl nvram security keyctl systemd-run "
    "update-alternatives ldconfig pacman zypper apk port emerge nix-env".split(),
    Zone.MACHINE,
)
_DNS = frozenset("dig nslookup host drill kdig resolvectl".split())
_CLIPBOARD = frozenset("pbcopy xclip xsel wl-copy clip".split())
_READERS = {  # program -> its short options that take a value
    "cat": "", "tac": "", "nl": "bivw", "head": "nc", "tail": "ncs", "less": "", "more": "",
    "bat": "lrHm", "wc": "", "file": "mfF", "stat": "cf", "du": "dBtX", "tree": "LIPo",
    "diff": "UCxXIFL", "cmp": "in", "sort": "kotTS", "uniq": "fsw", "cut": "dfbc", "comm": "",
    "paste": "d", "fold": "w", "fmt": "w", "rev": "", "strings": "nt", "xxd": "lscgo",
    "od": "AtNjw", "hexdump": "nsCe", "base64": "w", "sha1sum": "", "sha256sum": "",
    "sha512sum": "", "md5sum": "", "shasum": "a", "md5": "", "cksum": "", "b2sum": "",
    "column": "sc", "ls": "IwT", "realpath": "", "readlink": "", "readelf": "", "nm": "",
    "objdump": "j", "lsattr": "", "getfacl": "", "iconv": "ft", "expand": "t", "look": "",
}  # fmt: skip
_WRITERS = {"rmdir": "", "touch": "dtr", "mkdir": "m", "tee": "", "truncate": "sr", "sponge": ""}

HANDLERS: dict[str, Handler] = {
    **{name: reader(opts) for name, opts in _READERS.items()},
    **{name: writer(opts) for name, opts in _WRITERS.items()},
    **dict.fromkeys(("cp", "mv", "ln", "install"), copy),
    **dict.fromkeys(("chmod", "chown", "chgrp"), chmod),
    **dict.fromkeys(("mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "parted", "gdisk",
                     "sgdisk", "shred"), disk),
    **dict.fromkeys(("grep", "egrep", "fgrep", "rg", "ag", "ack"), grep),
    **dict.fromkeys(("sed", "awk", "gawk", "mawk", "nawk", "perl"), script_filter),
    **dict.fromkeys(("jq", "yq", "gojq", "jaq"), jq),
    **dict.fromkeys(("unzip", "zip", "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd",
                     "unzstd", "lz4", "zcat", "bzcat", "xzcat", "zstdcat"), compress),
    **dict.fromkeys(("curl", "wget"), curl),
    **dict.fromkeys(("rsync", "scp"), transfer),
    **dict.fromkeys(("docker", "podman", "nerdctl"), docker),
    **dict.fromkeys(("shutdown", "reboot", "halt", "poweroff", "systemctl", "init", "telinit",
                     "crontab", "defaults", "diskutil"), system),
    **dict.fromkeys((*TOOLS, *TOOL_ALIASES), tool),
    **dict.fromkeys(_DNS, lambda c: Result(Zone.NETWORK, f"shell.network.{c.name}",
                                            f"{c.name} makes DNS queries", sinks={"dns"})),
    **dict.fromkeys(_CLIPBOARD, lambda c: Result(Zone.WORKSPACE, f"shell.write.{c.name}",
                                                  f"{c.name} writes the clipboard",
                                                  sinks={"clipboard"})),
    "rm": rm, "dd": dd, "find": find, "tar": tar, "patch": patch, "gh": gh,
    "kill": kill, "git": git, "dpkg": package_db, "rpm": package_db, "python": python,
}  # fmt: skip
