"""homogeny: measure why outputs of different language models converge, stage by stage.

Data flows one way: suites -> generate -> store -> metrics -> experiments -> audit -> report.
Importing this package is cheap and changes nothing: backends, torch and transformers load
only when used, and thread settings (OpenMP's wait policy) are chosen when the first model
starts (homogeny.models.runtime).
"""

__version__ = "0.1.0"
