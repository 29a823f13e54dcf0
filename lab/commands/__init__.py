"""The lab's subcommands: is21 bench, chaos, soak (registered in is21.ops.commands)."""
