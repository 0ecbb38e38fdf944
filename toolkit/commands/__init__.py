"""The CLI's commands, in the order `toolkit --help` lists them."""

from toolkit.commands import boards, budget, codegen, compare, compress, convert, demo, distill, emulate, prune, report, train, validate, wokwi
from toolkit.commands.base import Command

COMMANDS: list[Command] = [m.COMMAND for m in (train, convert, codegen, validate, emulate, prune, distill, compare, compress, boards, budget, report, wokwi, demo)]
