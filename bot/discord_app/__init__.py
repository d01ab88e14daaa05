"""Thin Discord adapters over the core: commands parse options, defer, call the core,
render the result. All rules live in the core (bot.pipeline, bot.quiz)."""
