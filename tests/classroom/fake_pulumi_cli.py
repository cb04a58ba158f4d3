"""A stand-in `pulumi` executable for testing the classroom's Automation API adapter (no Pulumi CLI can be had here).

It answers the commands `pulumi.automation` runs for the adapter (version, stack select/init/ls/output/history/rm,
config set-all and read, up, destroy) from a JSON state file named by $FAKE_PULUMI_STATE, records every command
line there, and says "another update is in progress" for stacks listed as busy.
"""

import itertools
import json
import os
import sys
from datetime import UTC, datetime

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def main() -> int:
    path = os.environ["FAKE_PULUMI_STATE"]
    with open(path) as handle:
        state = json.load(handle)
    args = [arg for arg in sys.argv[1:] if arg != "--non-interactive"]
    state["calls"].append(args)
    stacks = state["stacks"]
    stack = option(args, "--stack")
    code, out, err = 0, "", ""
    if args[:1] == ["version"]:
        out = "v3.272.0\n"
    elif args[:2] == ["stack", "select"] or (args[:1] in (["up"], ["destroy"]) and stack not in stacks):
        if stack not in stacks:
            code, err = 255, f"error: no stack named '{stack}' found\n"
    elif args[:2] == ["stack", "init"]:
        name = args[2]
        if name in stacks:
            code, err = 255, f"error: stack '{name}' already exists\n"
        else:
            stacks[name] = {"config": {}, "outputs": {}, "history": []}
    elif args[:2] == ["config", "set-all"]:
        for flag, value in itertools.pairwise(args):
            if flag in ("--plaintext", "--secret"):
                key, _, text = value.partition("=")
                stacks[stack]["config"][key] = {"value": text, "secret": flag == "--secret"}
    elif args[:1] == ["config"] and "--json" in args:
        out = json.dumps(stacks[stack]["config"])
    elif args[:1] == ["up"] and stack in state["busy"]:
        code, err = 255, "error: [409] Conflict: Another update is currently in progress.\n"
    elif args[:1] == ["up"]:
        out = f"Updating ({stack})\n + 3 created\n"
        stacks[stack]["outputs"] = {"stack": stack, "seed": 42, "password": "s3cret"}
        stacks[stack]["history"].insert(0, {"kind": "update", "result": "succeeded", "resourceChanges": {"create": 3}})
    elif args[:1] == ["destroy"]:
        out = f"Destroying ({stack})\n - 3 deleted\n"
        stacks[stack]["outputs"] = {}
        stacks[stack]["history"].insert(0, {"kind": "destroy", "result": "succeeded"})
    elif args[:2] == ["stack", "output"]:
        outputs = dict(stacks[stack]["outputs"])
        if "--show-secrets" not in args and "password" in outputs:
            outputs["password"] = "[secret]"
        out = json.dumps(outputs)
    elif args[:2] == ["stack", "history"]:
        entries = [
            {"startTime": NOW, "endTime": NOW, "message": "", "environment": {}, "config": {}, **entry}
            for entry in stacks[stack]["history"]
        ]
        out = json.dumps(entries[: int(option(args, "--page-size") or len(entries))])
    elif args[:2] == ["stack", "ls"]:
        out = json.dumps([{"name": name, "current": False, "resourceCount": 3} for name in sorted(stacks)])
    elif args[:2] == ["stack", "rm"]:
        del stacks[args[-1]]
    else:
        code, err = 2, f"error: the fake pulumi does not know {' '.join(args)}\n"
    with open(path, "w") as handle:
        json.dump(state, handle)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
