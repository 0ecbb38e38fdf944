"""The CLI's commands, in the order `toolkit --help` lists them."""

from toolkit.commands import analyze, boards, budget, codegen, compare, compress, convert, demo, distill, emulate, prune, report, sweep, train, validate, wokwi
from toolkit.commands.base import Command

COMMANDS: list[Command] = [m.COMMAND for m in (train, convert, codegen, analyze, validate, emulate, prune, distill, compare, compress, sweep, boards, budget, report, wokwi, demo)]
