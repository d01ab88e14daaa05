"""An answer while the model (a remote server, say) is unavailable: the curated notes, with a
note and a footer that say why, and the model again on the next question once it is back."""

from __future__ import annotations

from scripted_backend import ScriptedBackend

from bot.config import Config
from bot.errors import ModelUnavailable
from bot.formatting import figures_footer
from bot.pipeline import Library, Tutor

from .conftest import ENTRIES

NOVEL = "A chatbot reply is produced by inference on a model that finished training months earlier."


class FlakyServer(ScriptedBackend):
    """Fails the way OpenAIBackend does while its server is down, until `down` is cleared."""

    def __init__(self) -> None:
        super().__init__([NOVEL])
        self.down = True

    def stream(self, *args, **kwargs):
        if self.down:
            yield "A"  # a piece arrived, then the connection went
            raise ModelUnavailable("the connection to the model server was lost mid-answer")
        yield from super().stream(*args, **kwargs)


async def test_unavailable_model_gets_the_notes_with_a_note_then_the_model_again(
    config: Config, library: Library
) -> None:
    backend = FlakyServer()
    tutor = Tutor(config, library, backend)
    await tutor.start()
    try:
        down = await tutor.ask("what is inference?")
        backend.down = False
        back = await tutor.ask("what is inference?")
    finally:
        tutor.close()
    assert down.grounded and down.fallback
    assert down.answer.startswith(ENTRIES["inference"]["definition"])
    assert down.model_error == "the connection to the model server was lost mid-answer"
    assert down.note == library.prompts.reply("model_unavailable", reason=down.model_error)
    assert "curated text (model unavailable)" in figures_footer(down)
    assert back.model_error is None and not back.fallback
    assert back.model_sentences == 1 and back.answer.startswith(NOVEL[:-1])
