"""``workbench demo``: run the quickstart notebook headless (papermill), keep it and its HTML.

The executed notebook and an nbconvert HTML export go to ``--output-dir`` (default
``artifacts/``); their paths are printed. ``make demo`` runs exactly this after
``workbench init``.
"""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli import state
from workbench.cli.output import emit, fields
from workbench.cli.shipped import shipped_dir


def run_notebook(
    notebook: Path, output_dir: Path, parameters: dict | None = None, timeout: int = 900
) -> tuple[Path, Path]:
    """Execute ``notebook`` with papermill into ``output_dir``; export HTML; return both paths."""
    from workbench.cli.dashboard import require_extra

    require_extra("papermill", "notebook")
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    output_dir.mkdir(parents=True, exist_ok=True)
    executed = output_dir / notebook.name
    html_path = executed.with_suffix(".html")
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters or {},
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
            cwd=str(notebook.parent),
        )
    finally:  # a failing notebook is exported too: the HTML shows where it stopped
        if executed.exists():
            node = nbformat.read(executed, as_version=4)
            # no widget state was saved: each widget's output shows its still picture
            # (text/html), and the page needs no widget renderer from a CDN
            node.metadata.pop("widgets", None)
            body, _ = HTMLExporter().from_notebook_node(node)
            html_path.write_text(body, encoding="utf-8")
    return executed, html_path


@click.command("demo")
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("artifacts"),
    show_default=True,
    help="Folder for the executed notebook and its HTML export.",
)
@click.option(
    "--notebook",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Notebook to run (default: the shipped notebooks/quickstart.ipynb).",
)
@click.option("--workers", type=int, default=2, show_default=True, help="Dask workers.")
def demo(output_dir: Path, notebook: Path | None, workers: int) -> None:
    """Copy the bundled Chinook sample into the store's PostgreSQL via the quickstart notebook."""
    notebook = notebook or shipped_dir("notebooks") / "quickstart.ipynb"
    if not notebook.exists():
        raise click.UsageError(f"{notebook} not found; pass --notebook PATH")
    state().store()  # create or upgrade the store before the kernel opens it
    executed, html_path = run_notebook(
        notebook.resolve(), output_dir.resolve(), {"workers": workers}
    )
    emit(
        {"notebook": str(executed), "html": str(html_path)},
        lambda: fields([("notebook", executed), ("html", html_path)]),
    )


commands = [demo]
