"""Source adapters: read increments of a source system as rows, a batch at a time, after a cursor.

The YAML's `source.kind` picks one: `csv` (one file), `sql` (a table or query through SQLAlchemy),
`file_drop` (CSV/XLSX files dropped into a folder) or `http` (a paged JSON API). A new adapter is
a settings model and a `Source`::

    class EchoSource(SourceSettings):
        kind: Literal["echo"]
        words: list[str]

        def open(self) -> Source:
            return EchoReader(self)

    class EchoReader(Source):
        def __init__(self, settings: EchoSource):
            self.words = settings.words

        def batches(self, cursor: dict | None, batch_size: int) -> Iterator[Batch]:
            done = cursor["done"] if cursor else 0
            for start in range(done, len(self.words), batch_size):
                chunk = self.words[start:start + batch_size]
                rows = [SourceRow(f"echo:{start + i}", {"word": w}) for i, w in enumerate(chunk)]
                yield Batch(rows, {"done": start + len(chunk)})

and one line in `connectors.sdk.config.SourceConfig`. The framework stores each batch's cursor
once the broker acknowledged its rows; the adapter never saves state itself."""

from connectors.sdk.sources.base import Batch, Source, SourceNotReady, SourceRefused, SourceRow, SourceSettings

__all__ = ["Batch", "Source", "SourceNotReady", "SourceRefused", "SourceRow", "SourceSettings"]
