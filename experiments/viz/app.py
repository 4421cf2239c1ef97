"""The viewer's Solara app: ``solara run experiments.viz.app`` (``lcsim viz`` does this for you).

Two pages:

* **Live model** (``/``): Mesa's ``SolaraViz`` runs one :class:`~experiments.viz.model.ViewedModel`
  month by month.  The sidebar has Reset / ▶ / Step, the seed and replicate, the horizon and a slider
  per main success factor (ranges from ``sim.params``); a new slider value takes effect at Reset.  The
  page shows a readout line and four live figures: pilots by phase, the four community elements, the
  school's commitment and embedding, and the tie network.
* **Run sets** (``/runsets``): pick a finished sweep or sensitivity run set under the results folder
  (``$LCSIM_VIZ_RESULTS``, default ``results/``), then a design point: its factor values, its
  replicates' outputs (table) and a strip plot against the spread of all points.

Every browser session gets its own model; the model's seed comes from the page, never from global state.
"""

from __future__ import annotations

import os
import warnings
from html import escape
from pathlib import Path

import solara
from mesa import Agent

with warnings.catch_warnings():  # Mesa's own Solara code may warn about hooks at import; not ours
    warnings.simplefilter("ignore")
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import update_counter

from experiments.plots.figures import tidy_number
from experiments.viz import charts
from experiments.viz.model import ViewedModel, model_params, readout, settings_line
from experiments.viz.runsets import (
    discoveries,
    find_runsets,
    load_runset,
    factor_values,
    nearest_point,
    study_figures,
    study_ranking,
    point_factors,
    point_failures,
    point_means,
    point_replicates,
    ranking_tables,
    replicate_summary,
)

#: Environment variable with the folder the run-set page searches (``lcsim viz --results``).
RESULTS_ENV = "LCSIM_VIZ_RESULTS"
#: The live page's header (short: the app bar cuts long titles) and the browser tab titles of the pages.
TITLE = "lcsim: live model"
LIVE_TAB_TITLE = "lcsim viewer: live model of a regional learning community"
RUNSETS_TAB_TITLE = "lcsim viewer: finished sweeps and sensitivity studies"
#: The live figures, in page order (CSS class ``lcsim-chart-<kind>``).
CHARTS = ("phases", "elements", "school", "network")
#: Milliseconds between steps while playing (a render of four figures takes about as long).
PLAY_INTERVAL_MS = 201  # Mesa's interval slider runs 1, 11, 21, ...


def results_root() -> Path:
    return Path(os.environ.get(RESULTS_ENV, "results"))


# =========================================================================================== live page


def _png_of(kind: str, model: ViewedModel) -> bytes:
    horizon = model.params.horizon_months
    if kind == "network":
        graph = charts.snapshot(model.network.graph)
        positions = charts.update_layout(graph, model.layout)
        return charts.png(charts.network_figure(graph, positions))
    frame = model.frame()
    figure = {"phases": charts.phases_figure, "elements": charts.elements_figure,
              "school": charts.school_figure}[kind](frame, horizon)
    return charts.png(figure)


@solara.component
def Chart(model: ViewedModel, kind: str):
    """One live figure as a PNG, redrawn once per model step (class ``lcsim-chart-<kind>``)."""
    update_counter.get()
    data = solara.use_memo(lambda: _png_of(kind, model), dependencies=[model, model.steps, kind])
    solara.Image(data, format="png", classes=["lcsim-chart", f"lcsim-chart-{kind}"])


@solara.component
def Readout(model: ViewedModel):
    """The state of the run in words (the browser test reads it)."""
    update_counter.get()
    if model.input_error:
        solara.Error(model.input_error, classes=["lcsim-input-error"])
    with solara.Div(classes=["lcsim-readout"], style={"padding": "4px 12px"}):
        solara.Text(readout(model), classes=["lcsim-readout-state"], style={"font-weight": "bold"})
        solara.Div(children=[settings_line(model)], classes=["lcsim-readout-settings"],
                   style={"font-size": "smaller", "color": "#555"})


#: This browser session's model (Solara keeps a reactive's value per session), kept across page switches.
live_model: solara.Reactive[ViewedModel | None] = solara.reactive(None)


@solara.component
def LivePage():
    """Mesa's SolaraViz with this session's own model, plus the readout and the four figures."""
    if live_model.value is None:
        live_model.set(ViewedModel())
    model = live_model

    # Mesa 3.3 keeps every model alive in Agent._ids (mesa#3179): let go of the one Reset replaced.
    previous = solara.use_ref(None)

    def release_replaced():
        old = previous.current
        if old is not None and old is not model.value:
            Agent._ids.pop(old, None)
        previous.current = model.value

    solara.use_effect(release_replaced, [model.value])

    # SolaraViz draws the app bar and the sidebar (controls, parameters, step count).  Its own component
    # grid is not used: Mesa 3.3's ComponentsView needs Vuetify 2 (v.TabsItems), and the installed
    # ipyvuetify is 3, so the figures are laid out here, two by two.
    # The sliders start at the running model's values (after a visit to the run-set page too).
    solara.Title(LIVE_TAB_TITLE)
    SolaraViz(model, components=[], model_params=model_params(current=model.value), name=TITLE,
              play_interval=PLAY_INTERVAL_MS)
    Readout(model.value)
    with solara.ColumnsResponsive(default=12, large=6):
        for kind in CHARTS:
            Chart(model.value, kind)


# =========================================================================================== run sets


def _html(tag: str, text: str, *, raw: bool = False, classes: list[str] | None = None, style: str = ""):
    """A plain HTML element (solara.Markdown would load a diagram library from the CDN)."""
    return solara.HTML(tag=tag, unsafe_innerHTML=text if raw else escape(text), classes=classes or [], style=style)


@solara.component
def RunSetPage():
    """Browse a finished sweep or sensitivity run set: pick a design point, see its replicates."""
    root = results_root()
    refresh, set_refresh = solara.use_state(0)
    entries = solara.use_memo(lambda: find_runsets(root), [str(root), refresh])
    labels = [entry.label for entry in entries]
    chosen = solara.use_reactive(None)
    point = solara.use_reactive(0)
    output = solara.use_reactive(None)
    label = chosen.value if chosen.value in labels else (labels[0] if labels else None)
    entry = next((e for e in entries if e.label == label), None)

    def read():
        if entry is None:
            return None, None
        try:
            return load_runset(entry.path), None
        except Exception as exc:  # noqa: BLE001  (shown on the page: a broken run set must not break it)
            return None, f"{entry.label}: cannot be read ({exc})"

    data, error = solara.use_memo(read, [label, refresh])
    n_points = data.n_points if data is not None else 0
    outputs = data.outputs if data is not None else []
    current_point = min(max(int(point.value or 0), 0), max(n_points - 1, 0))
    current_output = output.value if output.value in outputs else (outputs[0] if outputs else None)

    def choose(value: str) -> None:
        chosen.set(value)
        point.set(0)

    solara.Title(RUNSETS_TAB_TITLE)
    solara.AppBarTitle("lcsim: run sets")
    with solara.Sidebar():
        with solara.Card("Run set"):
            if not labels:
                solara.Info(f"No sweep or sensitivity run set under {root}/ (run `lcsim sweep` or "
                            "`lcsim sensitivity` first).")
            else:
                solara.Select("Run set", values=labels, value=label, on_value=choose, classes=["lcsim-runset-select"])
            solara.Button("Look again", on_click=lambda: set_refresh(refresh + 1), text=True)
        if n_points:
            with solara.Card("Design point"):
                solara.SliderInt("Point", value=current_point, on_value=point.set, min=0, max=n_points - 1)
                solara.InputInt("Point number", value=current_point, on_value=point.set,
                                classes=["lcsim-point-input"])
            with solara.Card("Point by factor values"):
                here = point_factors(data, current_point)
                for name, levels in factor_values(data).items():
                    if len(levels) <= 50:  # a grid: pick a level; the nearest point has it
                        labels_of = {tidy_number(v): v for v in levels}
                        solara.Select(name, values=list(labels_of), value=tidy_number(here[name]),
                                      on_value=lambda text, name=name, labels_of=labels_of, here=here: point.set(
                                          nearest_point(data, {**here, name: labels_of[text]})))
                    else:  # samples (LHS, Sobol', Morris): a value; the point nearest in all factors
                        solara.SliderFloat(name, value=float(here[name]), min=levels[0], max=levels[-1],
                                           step=(levels[-1] - levels[0]) / 100 or 1.0,
                                           on_value=lambda value, name=name, here=here: point.set(
                                               nearest_point(data, {**here, name: value})))
                if outputs:
                    solara.Select("Output", values=outputs, value=current_output, on_value=output.set)

    _html("h2", f"Run sets under {root}/")
    if error:
        solara.Error(error)
    elif data is not None:
        manifest = data.runset.manifest
        design = manifest.get("design", {})
        with solara.Div(classes=["lcsim-runset-info"]):
            _html("p", f"<b>{escape(str(manifest.get('name', label)))}</b> ({escape(str(manifest.get('kind', '')))}): "
                  f"{escape(str(manifest.get('description', '')))}", raw=True)
            _html("p", f"design {design.get('type', '?')}, {n_points} points x {data.runset.replicates} replicates, "
                  f"root seed {manifest.get('root_seed')}; {len(data.runs)} runs finished, "
                  f"{len(data.failures)} failed")
            _html("p", f"Seeds: {manifest.get('seeding', '')}", style="font-size: smaller; color: #555")
        if current_output:
            StudyView(data, current_output)
        RankingView(data, current_output, refresh)
        if n_points:
            PointView(data, current_point, current_output, refresh)


@solara.component
def StudyView(data, output: str):
    """The study's own results for one output: its ranking table and its figures (from analysis/)."""
    ranking = study_ranking(data, output)
    figures = study_figures(data, output)
    if ranking is None and not figures:
        _html("p", f"No analysis of {output} in this run set yet (`lcsim resume` analyses it).")
        return
    _html("h3", f"Study results for {output}")
    if ranking is not None:
        with solara.Div(style={"overflow-x": "auto", "width": "100%"}):
            _html("div", ranking.head(30).to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0,
                                                  classes="lcsim-factors"), raw=True)
    for path in figures:
        solara.Image(path.read_bytes(), format="png", classes=["lcsim-chart", "lcsim-study-figure"])


@solara.component
def RankingView(data, output: str | None, refresh: int = 0):
    """The run set's ranking table for the chosen output and, where `lcsim discover` wrote one, its boxes."""
    label = str(data.runset.path)
    rankings = solara.use_memo(lambda: ranking_tables(data.runset), [label, refresh])
    found = solara.use_memo(lambda: discoveries(data.runset), [label, refresh])
    base = output.rsplit(".", 1)[-1] if output else None  # robustness outputs are <policy>.<output>
    shown = output if output in rankings else base if base in rankings else next(iter(rankings), None)
    if shown is not None:
        with solara.Div(classes=["lcsim-ranking"], style={"overflow-x": "auto", "width": "100%"}):
            _html("h3", f"Ranking: {shown}")
            _html("div", rankings[shown].to_html(index=not {"factor"} <= set(rankings[shown].columns),
                                                 float_format=lambda v: f"{v:.3g}", border=0), raw=True,
                  classes=["lcsim-factors"])
    for name, item in found.items():
        with solara.Div(classes=["lcsim-discovery"], style={"overflow-x": "auto", "width": "100%"}):
            _html("h3", f"Scenario discovery: {item['condition'] or name}")
            _html("div", item["limits"].to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0), raw=True,
                  classes=["lcsim-factors", "lcsim-discovery-limits"])
            if "trajectory" in item:
                chosen = item["trajectory"].query("chosen")
                _html("p", "chosen box(es): " + "; ".join(
                    f"search {int(r.search)} box {int(r.box)}: coverage {r.coverage:.3f}, density {r.density:.3f}"
                    for r in chosen.itertuples()))
            for figure in item["figures"].values():
                solara.Image(figure.read_bytes(), format="png", classes=["lcsim-chart", "lcsim-discovery-chart"])


@solara.component
def PointView(data, point: int, output: str | None, refresh: int = 0):
    """One design point: factor values, the chosen output over its replicates, and the replicate table."""
    factors = point_factors(data, point)
    replicates = point_replicates(data, point)
    label = str(data.runset.path)

    def figure() -> bytes | None:
        if not output:
            return None
        means = point_means(data, output)
        return charts.png(charts.replicates_figure(replicates[output], means, point, output))

    image = solara.use_memo(figure, [label, refresh, point, output])
    rows = "".join(f"<tr><td><code>{escape(name)}</code></td><td style='text-align: right'>{tidy_number(value)}</td></tr>"
                   for name, value in factors.items())
    with solara.Div(classes=["lcsim-runset-point"], style={"min-width": "0", "max-width": "100%"}):
        _html("h3", f"Point {point}")
        _html("table", f"<thead><tr><th>factor</th><th>value</th></tr></thead><tbody>{rows}</tbody>", raw=True,
              classes=["lcsim-factors"])
        if output:
            summary = replicate_summary(replicates[output])
            _html("p", f"{output} over the replicates: mean {summary['mean']:.4g} ± {summary['ci95']:.3g} "
                  f"(95% CI), sd {summary['sd']:.3g}, n = {summary['n']}")
        if image is not None:
            solara.Image(image, format="png", classes=["lcsim-chart", "lcsim-chart-replicates"])
        failed = point_failures(data, point)
        if failed:
            solara.Warning(f"{len(failed)} replicate(s) of this point failed: "
                           + "; ".join(f"replicate {r.get('replicate')}: {r.get('error', '')}" for r in failed[:5]))
        columns = list(dict.fromkeys([*([output] if output else []), *data.main_outputs]))
        shown = replicates[["replicate", "run_id", "spawn_key", *columns]].copy()
        shown["spawn_key"] = shown["spawn_key"].astype(str)
        with solara.Div(style={"overflow-x": "auto", "width": "100%"}):
            solara.DataFrame(shown, items_per_page=25)


# =========================================================================================== the app


#: Sidebar sliders: the label above the slider (the labels carry units and are long) and the value shown;
#: the factor table of the run-set page.
PAGE_CSS = """
.v-navigation-drawer .v-slider.v-input--horizontal {
  display: flex; flex-direction: column; align-items: stretch; margin-bottom: 8px;
}
.v-navigation-drawer .v-slider.v-input--horizontal > .v-input__prepend { margin: 0 0 -6px 0; }
.v-navigation-drawer .v-slider.v-input--horizontal .v-label { white-space: normal; opacity: 0.85; font-size: 0.9rem; }
.lcsim-factors td, .lcsim-factors th { padding: 1px 10px; border-bottom: 1px solid #ddd; }
.v-navigation-drawer .v-slider-thumb::after {
  content: attr(aria-valuenow); position: absolute; top: 19px; left: 50%; transform: translateX(-50%);
  font-size: 11px; color: #555; white-space: nowrap; pointer-events: none;
}
"""


@solara.component
def Layout(children=[]):  # noqa: B006  (Solara's layout signature)
    """Solara's app layout with the pages as buttons in the app bar, named after the pages (Solara's own
    navigation tabs are named after the paths).  The buttons are made here, not in a child component: the
    app bar showed only elements made in this render."""
    route, all_routes = solara.use_route()
    router = solara.use_router()
    buttons = []
    for each in all_routes:
        path = "/" if each.path == "/" else f"/{each.path}"
        buttons.append(solara.Button(  # the current page's button is disabled ("you are here")
            each.label or each.path, text=True, on_click=lambda path=path: router.push(path),
            disabled=each.path == route.path, classes=["lcsim-nav"],
        ))
    return solara.AppLayout(children=[solara.Style(PAGE_CSS), solara.AppBar(children=buttons), *children],
                            navigation=False)


routes = [
    solara.Route(path="/", component=LivePage, label="Live model", layout=Layout),  # the root's layout: all pages
    solara.Route(path="runsets", component=RunSetPage, label="Run sets"),
]
