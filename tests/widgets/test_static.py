"""A widget's still picture (text/html beside its live view) for saved and exported notebooks."""

from __future__ import annotations

import ipywidgets as w

from workbench.widgets.static import mimebundle, static_html


def test_the_picture_shows_what_the_widget_shows_now():
    bar = w.FloatProgress(value=0.25, min=0, max=1, description="overall")
    tabs = w.Tab(children=[w.HTML("<b>one</b>"), w.Label("two & more")])
    tabs.set_title(0, "First")
    tabs.set_title(1, "Second")
    row = w.HBox(
        [w.Label("name"), w.Dropdown(options=["a", "b"], value="b"), w.Button(description="Save")]
    )
    view = w.VBox([row, bar, tabs])
    page = static_html(view)
    assert "wb-static" in page and ">b<" in page and ">Save<" in page
    assert "width:25%" in page and "overall" in page
    assert "First" in page and "<b>one</b>" in page and "two &amp; more" in page
    bar.value = 1.0  # a picture is taken when shown: it follows the widget's state
    assert "width:100%" in static_html(view)


def test_the_bundle_keeps_the_live_view_and_adds_the_picture():
    bundle = mimebundle(w.VBox([w.HTML("<i>hi</i>")]))
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "<i>hi</i>" in data["text/html"]
