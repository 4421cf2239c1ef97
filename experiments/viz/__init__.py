"""The interactive viewer (``lcsim viz``): one live model run in the browser, and a run-set browser.

* :mod:`experiments.viz.model` -- :class:`ViewedModel`, the model as the viewer runs it (a Mesa
  ``DataCollector`` over the model's own monthly series), the parameter sliders (taken from
  :mod:`sim.params`) and the one-line readout.  No Solara.
* :mod:`experiments.viz.charts` -- the matplotlib figures (phases, community elements, the school,
  the tie network with a cached layout).  No Solara.
* :mod:`experiments.viz.runsets` -- finding run sets under ``results/`` and the replicates of one
  design point.  No Solara.
* :mod:`experiments.viz.app` -- the Solara app: the live page (Mesa's ``SolaraViz``) and the
  run-set page.  ``lcsim viz`` serves it with ``solara run experiments.viz.app``.

Like the rest of ``experiments``, the viewer never changes the model: it subclasses
:class:`sim.model.LearningCommunityModel` only to add data collection and to stop at the horizon.
"""
