"""The interactive dashboard: ``python -m sim.dashboard [--port N]`` (needs the ``dashboard`` extra).

Pick a scenario, move the policy levers and the main uncertainties, and see the headline
outcomes against the baseline over several seeds at once, the monthly paths, the network,
the command line that reproduces the view, and the policy summary of any sweep folder.
Built with Solara, the library behind Mesa's SolaraViz; its assets are served locally
(``solara-assets``), so the page works offline.
"""
