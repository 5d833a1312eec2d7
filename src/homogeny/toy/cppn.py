"""Compositional pattern-producing networks (CPPNs) and single-weight sweeps.

After Kumar, Clune, Lehman & Stanley 2025, "Questioning Representational Optimism in Deep
Learning: The Fractured Entangled Representation Hypothesis" (arXiv 2505.11581). A CPPN maps
each pixel's (x, y, d = distance from centre, bias) to an intensity through a small network of
mixed activations. The paper compares networks evolved in Picbreeder (built from regular,
reusable parts) with networks of the same architecture trained by SGD to draw the same image:
both output the picture, but sweeping one weight bends the evolved network's picture in
coherent, symmetric, local ways and the SGD network's picture in global, asymmetric ways.

Here the target picture is drawn by a hand-factored face CPPN (`compositional_face`: symmetry
enters once through |x|, separate hidden units carry separate features). The networks compared
share one dense layered architecture and start from the same random weights: one kind is
trained by Adam on pixel MSE (`train_sgd_cppns`), the other found by an evolution strategy on
the same target (both in `homogeny.toy.cppn_fit`). The hand-factored net is kept as a
reference for what a fully factored network's sweeps look like.

Forward passes and sweeps run in numpy (hundreds of tiny forwards).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "abs": np.abs,
    "id": lambda z: z,
    "gauss": lambda z: np.exp(-(z**2)),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "sin": np.sin,
}

INPUT_NAMES = ("x", "y", "d", "bias")
# The face CPPN's architecture, shared by the compositional and the SGD network: each hidden
# unit has its own activation, as in Picbreeder. The compositional face uses the first units
# of each layer and leaves the rest at zero (spare capacity that lets SGD fit the image well).
FACE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("abs", "id", "id", "gauss", "sin"),
    ("gauss", "gauss", "gauss", "gauss", "gauss", "gauss", "tanh", "sin"),
    ("sigmoid", "sigmoid", "sigmoid", "sigmoid", "tanh"),
    ("sigmoid",),
)
FACE_UNIT_NAMES: tuple[tuple[str, ...], ...] = (
    ("|x|", "y", "d", "spare", "spare"),
    ("eye column", "eye row", "mouth column", "mouth row", "head disc", "spare", "spare", "spare"),
    ("eyes", "mouth", "head", "spare", "spare"),
    ("image",),
)


@dataclass
class CPPN:
    """A layered CPPN. weights[l] has shape (units in layer l, units in layer l-1 + 1): the
    last column is the unit's bias. Inputs are (x, y, d) and the bias is appended per layer."""

    activations: tuple[tuple[str, ...], ...]
    weights: list[Array]
    unit_names: tuple[tuple[str, ...], ...] = field(default=())

    def copy(self) -> CPPN:
        """A deep copy (weights copied)."""
        return CPPN(self.activations, [w.copy() for w in self.weights], self.unit_names)

    @property
    def n_weights(self) -> int:
        """How many weights (biases included) the network has."""
        return int(sum(w.size for w in self.weights))

    def weight_index(self) -> list[tuple[int, int, int]]:
        """Every weight as (layer, unit, input column), in a fixed order."""
        return [
            (layer, i, j)
            for layer, w in enumerate(self.weights)
            for i in range(w.shape[0])
            for j in range(w.shape[1])
        ]


def grid_inputs(size: int) -> Array:
    """The (size*size, 3) CPPN inputs (x, y, d) on a grid over [-1, 1]^2, rows from top (y=1)
    to bottom; the x grid is symmetric, so flipping columns maps x to -x exactly."""
    coords = np.linspace(-1.0, 1.0, size)
    coords = (coords - coords[::-1]) / 2  # exactly antisymmetric, so |x| is exactly mirrored
    y, x = np.meshgrid(coords[::-1], coords, indexing="ij")
    d = np.sqrt(x**2 + y**2)
    return np.stack([x.ravel(), y.ravel(), d.ravel()], axis=1)


def forward(net: CPPN, inputs: Array) -> list[Array]:
    """Every layer's activations, (n_pixels, units) per layer; the last one is the image."""
    layers = []
    h = inputs
    for acts, w in zip(net.activations, net.weights):
        z = h @ w[:, :-1].T + w[:, -1]
        h = np.empty_like(z)
        for name in set(acts):
            cols = [k for k, a in enumerate(acts) if a == name]
            h[:, cols] = ACTIVATIONS[name](z[:, cols])
        layers.append(h)
    return layers


def render(net: CPPN, size: int = 32) -> Array:
    """The network's (size, size) image."""
    return forward(net, grid_inputs(size))[-1][:, 0].reshape(size, size)


@dataclass(frozen=True)
class FaceParams:
    """Where the face's parts sit; a seed jitters them so each seed draws its own face."""

    eye_x: float = 0.38
    eye_y: float = 0.28
    eye_size: float = 0.14
    mouth_y: float = -0.38
    mouth_width: float = 0.32
    mouth_height: float = 0.09
    head_radius: float = 0.78


def face_params(seed: int) -> FaceParams:
    """A face whose parts are jittered by `seed` (seed 0 gives the default face)."""
    if seed == 0:
        return FaceParams()
    rng = np.random.default_rng(seed)
    base = FaceParams()
    jitter = rng.uniform(-1.0, 1.0, size=7)
    return FaceParams(
        eye_x=base.eye_x + 0.06 * jitter[0],
        eye_y=base.eye_y + 0.06 * jitter[1],
        eye_size=base.eye_size + 0.03 * jitter[2],
        mouth_y=base.mouth_y + 0.06 * jitter[3],
        mouth_width=base.mouth_width + 0.06 * jitter[4],
        mouth_height=base.mouth_height + 0.02 * jitter[5],
        head_radius=base.head_radius + 0.06 * jitter[6],
    )


def compositional_face(params: FaceParams = FaceParams()) -> CPPN:
    """The hand-factored face CPPN: x enters only through |x| (so every image it draws, and
    every sweep past the first layer, is exactly left-right symmetric), and each feature has
    its own units (eye = eye-column AND eye-row band, mouth likewise, head = disc on d)."""
    p = params
    sharp = 12.0  # steepness of the AND / threshold sigmoids
    n1, n2, n3 = (len(a) for a in FACE_LAYERS[:3])
    w1 = np.zeros((n1, 4))
    w1[0, 0] = 1.0  # |x|
    w1[1, 1] = 1.0  # y
    w1[2, 2] = 1.0  # d
    w2 = np.zeros((n2, n1 + 1))
    w2[0, 0], w2[0, -1] = 1 / p.eye_size, -p.eye_x / p.eye_size  # eye column: near |x| = eye_x
    w2[1, 1], w2[1, -1] = 1 / p.eye_size, -p.eye_y / p.eye_size  # eye row
    w2[2, 0] = 1 / p.mouth_width  # mouth column: near x = 0
    w2[3, 1], w2[3, -1] = 1 / p.mouth_height, -p.mouth_y / p.mouth_height  # mouth row
    w2[4, 2] = 1 / p.head_radius  # head disc on d
    w3 = np.zeros((n3, n2 + 1))
    w3[0, 0], w3[0, 1], w3[0, -1] = sharp, sharp, -1.5 * sharp  # eye = column AND row
    w3[1, 2], w3[1, 3], w3[1, -1] = sharp, sharp, -1.5 * sharp  # mouth = column AND row
    w3[2, 4], w3[2, -1] = sharp, -0.45 * sharp  # head = inside the disc
    w4 = np.zeros((1, n3 + 1))
    w4[0, :3], w4[0, -1] = (-6.0, -6.0, 6.0), -3.0  # light head, dark eyes and mouth
    return CPPN(FACE_LAYERS, [w1, w2, w3, w4], FACE_UNIT_NAMES)


def random_cppn(activations: tuple[tuple[str, ...], ...], seed: int, scale: float = 1.0) -> CPPN:
    """A CPPN of the given architecture with normal random weights (Glorot-like scale)."""
    rng = np.random.default_rng(seed)
    weights, n_in = [], 3
    for acts in activations:
        weights.append(rng.normal(0.0, scale / np.sqrt(n_in + 1), size=(len(acts), n_in + 1)))
        n_in = len(acts)
    return CPPN(activations, weights)


# ---- single-weight sweeps -----------------------------------------------------------------


def change_asymmetry(before: Array, after: Array, floor: float = 1e-9) -> float:
    """Left-right symmetry error of an image change dI = after - before, as a share in [0, 1]:
    ||dI - mirror(dI)||_1 / (2 ||dI||_1). 0 when the change is mirror-symmetric (both eyes move
    together), 1 when it sits on one side only or is anti-symmetric. 0 when nothing changed."""
    delta = after - before
    total = np.abs(delta).sum()
    if total <= floor:
        return 0.0
    return float(np.abs(delta - delta[:, ::-1]).sum() / (2 * total))


def image_asymmetry(image: Array) -> float:
    """Left-right symmetry error of an image: mean |I(x, y) - I(-x, y)| over pixels."""
    return float(np.abs(image - image[:, ::-1]).mean())


def change_extent(before: Array, after: Array, rel: float = 0.1, floor: float = 1e-6) -> float:
    """Spatial extent of an image change: the share of pixels whose change exceeds `rel` times
    the largest pixel change (scale-free: a local change covers few pixels, a global distortion
    most of them). 0 when nothing changed by more than `floor`."""
    delta = np.abs(after - before)
    peak = float(delta.max())
    if peak <= floor:
        return 0.0
    return float((delta > rel * peak).mean())


def units_changed(before: list[Array], after: list[Array], eps: float = 1e-3) -> int:
    """How many hidden units' activation maps change by more than `eps` (max over pixels)."""
    return int(
        sum(int((np.abs(a - b).max(axis=0) > eps).sum()) for b, a in zip(before[:-1], after[:-1]))
    )


@dataclass
class WeightSweep:
    """The sweep of one weight: per delta, the change's asymmetry and extent and the number of
    hidden units whose maps changed; `inert` when no delta changed the image at all."""

    layer: int
    unit: int
    column: int
    asymmetry: float
    extent: float
    units: float
    image_asymmetry: float
    max_change: float

    @property
    def inert(self) -> bool:
        """True when no delta changed the image."""
        return self.max_change <= 1e-6


def sweep_weight(
    net: CPPN, where: tuple[int, int, int], deltas: Sequence[float], size: int = 32
) -> tuple[WeightSweep, list[Array]]:
    """Add each of `deltas` to one weight, redraw, and average the change measures over the
    deltas that changed the image (as the paper's weight sweeps; arXiv 2505.11581, Fig. 2).
    Returns the sweep and the swept images."""
    inputs = grid_inputs(size)
    base = forward(net, inputs)
    base_img = base[-1][:, 0].reshape(size, size)
    layer, unit, col = where
    rows, images = [], []
    for delta in deltas:
        changed = net.copy()
        changed.weights[layer][unit, col] += delta
        acts = forward(changed, inputs)
        img = acts[-1][:, 0].reshape(size, size)
        images.append(img)
        peak = float(np.abs(img - base_img).max())
        rows.append(
            (
                change_asymmetry(base_img, img),
                change_extent(base_img, img),
                units_changed(base, acts),
                image_asymmetry(img),
                peak,
            )
        )
    live = [r for r in rows if r[4] > 1e-6] or rows
    mean = [float(v) for v in np.mean(np.array(live, dtype=float), axis=0)]
    return WeightSweep(layer, unit, col, *mean[:4], max(r[4] for r in rows)), images


def sweep_all(net: CPPN, deltas: Sequence[float], size: int = 32) -> list[WeightSweep]:
    """Sweep every weight of the network in turn."""
    return [sweep_weight(net, where, deltas, size)[0] for where in net.weight_index()]


def n_hidden_units(net: CPPN) -> int:
    """Units in every layer but the output."""
    return int(sum(len(a) for a in net.activations[:-1]))


def sweep_summary(net: CPPN, deltas: Sequence[float], size: int = 32) -> dict[str, Array | float]:
    """Per weight whose sweep changes the image: its change asymmetry, extent and share of
    hidden units changed (arrays), plus the share of inert weights (sweeps that change nothing,
    e.g. into a unit whose outgoing weights are all zero; left out of the measures)."""
    live = [w for w in sweep_all(net, deltas, size) if not w.inert]
    hidden = n_hidden_units(net)
    return {
        "asymmetry": np.array([w.asymmetry for w in live]),
        "extent": np.array([w.extent for w in live]),
        "units": np.array([w.units / hidden for w in live]),
        "inert_share": 1 - len(live) / net.n_weights,
    }


def example_sweeps(
    net: CPPN, deltas: Sequence[float] = (-1.5, -0.5, 0.5, 1.5), size: int = 32, n_weights: int = 4
) -> dict[str, object]:
    """Images (rounded to 3 decimals, nested lists) of the `n_weights` sweeps that change the
    image most, with the unswept image: the data behind a figure like the paper's Fig. 2."""
    swept = sorted(
        zip(net.weight_index(), sweep_all(net, deltas, size)), key=lambda p: -p[1].max_change
    )
    shown = []
    for where, sweep in swept[:n_weights]:
        if sweep.inert:
            break
        _, images = sweep_weight(net, where, deltas, size)
        shown.append(
            {
                "weight": list(where),
                "deltas": list(deltas),
                "images": [np.round(img, 3).tolist() for img in images],
            }
        )
    return {"base": np.round(render(net, size), 3).tolist(), "sweeps": shown}
