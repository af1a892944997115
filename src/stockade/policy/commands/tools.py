"""Tools judged by their subcommand: package managers, ``terraform``, ``pulumi``.

``pip list`` only reads while ``pip install`` fetches from the network; a subcommand the
table does not name falls back to the tool's default zone.
"""

from __future__ import annotations

from stockade.decision import Zone
from stockade.policy.commands.arguments import Cmd
from stockade.policy.commands.results import Result, zoned


def _table(default: Zone, **zones: str) -> tuple[Zone, dict[str, Zone]]:
    """A tool's zone per subcommand; ``pip+install`` is the two-word ``pip install``."""
    table: dict[str, Zone] = {}
    for zone, words in zones.items():
        table |= dict.fromkeys(words.replace("+", " ").split(","), Zone[zone.upper()])
    return default, table


_JS = _table(
    Zone.BUILD,
    safe=",ls,list,config,root,prefix,help,why,explain,version,-v,--version",
    network="install,i,ci,add,update,up,upgrade,publish,dlx,audit,outdated,view,info,search,"
    "login,unpublish,create,init,x",
)
TOOLS: dict[str, tuple[Zone, dict[str, Zone]]] = {
    "npm": _JS,
    "pnpm": _JS,
    "bun": _JS,
    "yarn": (_JS[0], _JS[1] | {"": Zone.NETWORK}),
    "pip": _table(Zone.BUILD, safe=",list,show,freeze,check,help,config,debug,cache,inspect,"
                  "--version,-V", network="install,download,wheel,index,search"),
    "uv": _table(Zone.BUILD, safe=",version,--version,help,pip+list,pip+show,pip+freeze,pip+tree,"
                 "pip+check,cache+dir", network="add,sync,lock,remove,upgrade,tool,python,publish,"
                 "export,pip+install,pip+sync,pip+compile,pip+download,venv"),
    "poetry": _table(Zone.BUILD, safe=",show,check,version,env,config,about,help,list",
                     network="add,install,update,lock,publish,remove,self,source"),
    "conda": _table(Zone.BUILD, safe=",list,info,config,--version",
                    network="install,create,update,upgrade,remove,search,env"),
    "cargo": _table(Zone.BUILD, safe=",--version,version,help,locate-project,pkgid,metadata",
                    network="install,publish,update,add,fetch,search,login,yank,owner,vendor,"
                    "generate-lockfile"),
    "go": _table(Zone.BUILD, safe=",env,version,help,doc",
                 network="get,install,mod+download,mod+tidy"),
    "gem": _table(Zone.BUILD, safe=",list,env,which,contents,--version",
                  network="install,update,push,fetch,yank,sources,owner,search"),
    "bundle": _table(Zone.BUILD, safe="list,show,info,--version,config",
                     network=",install,update,add,lock,outdated"),
    "composer": _table(Zone.BUILD, safe=",show,--version,list,validate",
                       network="install,require,update,create-project,global,remove,self-update"),
    "brew": _table(Zone.MACHINE, safe=",list,ls,info,search,doctor,config,outdated,deps,uses,"
                   "leaves,desc,--version,--prefix,--cellar"),
    "apt": _table(Zone.MACHINE, safe="list,show,search,policy,depends,rdepends,--version"),
    "dnf": _table(Zone.MACHINE, safe="list,info,search,repolist,provides,--version"),
    "snap": _table(Zone.MACHINE, safe="list,info,find,version"),
    "terraform": _table(Zone.BUILD, safe=",fmt,validate,version,show,output,graph,providers",
                        network="init,plan,refresh,get",
                        external="apply,destroy,import,state,taint,untaint,force-unlock,workspace"),
    "pulumi": _table(Zone.EXTERNAL, safe=",version,about", network="preview"),
}  # fmt: skip
TOOL_ALIASES = {"pip3": "pip", "pipx": "uv", "mamba": "conda", "micromamba": "conda"}
TOOL_ALIASES |= {"bundler": "bundle", "apt-get": "apt", "aptitude": "apt", "yum": "dnf"}
TOOL_ALIASES |= {"tofu": "terraform", "flatpak": "snap"}


def tool(c: Cmd) -> Result:
    default, table = TOOLS[TOOL_ALIASES.get(c.name, c.name)]
    words = [a for a in c.args if not a.startswith(("-", "+"))][:2]
    if not words and c.args and c.args[0] in table:  # npm --version
        words = [c.args[0]]
    sub = " ".join(words)
    zone = table.get(sub, table.get(words[0], default) if words else table.get("", default))
    return zoned(zone, c.name, f"{c.name} {sub}".strip())
