"""homogeny: measure why outputs of different language models converge, stage by stage.

Data flows one way: suites -> generate -> store -> metrics -> experiments -> audit -> report.
Importing this package is cheap: backends, torch and transformers load only when used.
"""

__version__ = "0.1.0"
