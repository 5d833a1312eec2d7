"""Finding a CPPN that draws a target: Adam on pixel MSE, or an evolution strategy.

Both start from the same random networks (`random_starts`, the best of a few per seed) and fit
the same target with the same loss, so what differs between the networks they find is the
optimiser: gradient descent (as the SGD networks of Kumar et al. 2025, arXiv 2505.11581) or
mutation and selection (`search_cppns`: a separable CMA-ES, Ros & Hansen 2008, in place of the
paper's Picbreeder evolution). All networks of a call run together as one torch batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from homogeny.toy.cppn import CPPN, FACE_LAYERS, grid_inputs, random_cppn

if TYPE_CHECKING:
    import torch

Array = np.ndarray
Layers = tuple[tuple[str, ...], ...]


def random_starts(activations: Layers, seeds: Sequence[int], restarts: int) -> list[Array]:
    """`restarts` random CPPNs per seed (the same for SGD and search), stacked per layer:
    weights[l] has shape (len(seeds) * restarts, units, inputs + 1), seed-major."""
    starts = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        starts.extend(
            random_cppn(activations, int(rng.integers(2**31)), scale=2.0) for _ in range(restarts)
        )
    return [np.stack([s.weights[k] for s in starts]) for k in range(len(activations))]


def _torch_forward(
    activations: Layers, weights: Sequence[torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """Images of a batch of CPPNs: weights[l] is (batch, units, inputs + 1); returns
    (batch, pixels)."""
    import torch

    fns = {
        "abs": torch.abs,
        "id": lambda z: z,
        "gauss": lambda z: torch.exp(-(z * z)),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "sin": torch.sin,
    }
    h = x.expand(weights[0].shape[0], *x.shape)
    for acts, w in zip(activations, weights):
        z = torch.baddbmm(w[:, None, :, -1], h, w[:, :, :-1].transpose(1, 2))
        # one call per run of equal activations (FACE_LAYERS groups them), then concatenate
        parts, start = [], 0
        for kind, run in itertools.groupby(acts):
            stop = start + len(list(run))
            parts.append(fns[kind](z[..., start:stop]))
            start = stop
        h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
    return h[:, :, 0]


def _adam_fit(
    activations: Layers,
    stacked: list[Array],
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float,
) -> tuple[list[Array], Array]:
    """Adam on a batch of independent CPPNs (the loss is a sum of per-network MSEs and Adam is
    elementwise, so each network trains exactly as it would alone). Returns weights and MSEs."""
    import torch

    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in stacked]
    opt = torch.optim.Adam(ws, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1), eta_min=lr * 0.02)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((_torch_forward(activations, ws, x) - y) ** 2).mean(dim=1).sum()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        mse = ((_torch_forward(activations, ws, x) - y) ** 2).mean(dim=1).numpy()
    return [w.detach().numpy().copy() for w in ws], np.where(np.isfinite(mse), mse, np.inf)


def train_sgd_cppns(
    targets: Sequence[Array],
    seeds: Sequence[int],
    activations: Layers = FACE_LAYERS,
    steps: int = 3000,
    lr: float = 0.03,
    restarts: int = 4,
    restart_steps: int = 300,
) -> list[tuple[CPPN, float]]:
    """Train one CPPN per target from random init with Adam (full batch, pixel MSE), as the
    paper's SGD networks are: `restarts` random starts per target are trained briefly, the best
    is trained on. All networks train together as one batch (fast on CPU). Returns, per target,
    the network and its final pixel MSE."""
    import torch

    size = targets[0].shape[0]
    x = torch.tensor(grid_inputs(size), dtype=torch.float64)
    y = torch.tensor(np.stack([t.ravel() for t in targets]), dtype=torch.float64)
    stacked = random_starts(activations, seeds, restarts)
    ws, mse = _adam_fit(
        activations, stacked, x, y.repeat_interleave(restarts, dim=0), restart_steps, lr
    )
    best = (
        np.argmin(mse.reshape(len(targets), restarts), axis=1) + np.arange(len(targets)) * restarts
    )
    ws, mse = _adam_fit(activations, [w[best] for w in ws], x, y, steps, lr)
    return [(CPPN(activations, [w[b] for w in ws]), float(mse[b])) for b in range(len(targets))]


def _flat_shapes(activations: Layers) -> list[tuple[int, int]]:
    widths = (3,) + tuple(len(a) for a in activations[:-1])
    return [(len(a), n_in + 1) for a, n_in in zip(activations, widths)]


def _unflatten(flat: torch.Tensor, shapes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """(batch, n_weights) -> per layer (batch, units, inputs + 1)."""
    out, offset = [], 0
    for units, inputs in shapes:
        out.append(flat[:, offset : offset + units * inputs].reshape(-1, units, inputs))
        offset += units * inputs
    return out


def search_cppns(
    targets: Sequence[Array],
    seeds: Sequence[int],
    activations: Layers = FACE_LAYERS,
    generations: int = 1000,
    population: int = 16,
    sigma: float = 0.3,
    restarts: int = 4,
) -> list[tuple[CPPN, float]]:
    """Find one CPPN per target by a separable CMA-ES (Ros & Hansen 2008; weights and
    parameters of Hansen's tutorial, arXiv 1604.00772): from the best (lowest pixel MSE) of the
    same `restarts` random starts that SGD gets, `population` mutants per generation, the best
    half recombined, step size and per-weight scales adapted. Gradient-free: only the images
    are looked at. float32 forward passes. Returns, per target, the network and its pixel MSE."""
    import torch

    shapes = _flat_shapes(activations)
    dim, n = sum(u * i for u, i in shapes), len(targets)
    x = torch.tensor(grid_inputs(targets[0].shape[0]), dtype=torch.float32)
    y = torch.tensor(np.stack([t.ravel() for t in targets]), dtype=torch.float32)

    def loss(flat: torch.Tensor, repeat: int) -> torch.Tensor:
        with torch.no_grad():
            img = _torch_forward(activations, _unflatten(flat, shapes), x)
            mse = ((img - y.repeat_interleave(repeat, dim=0)) ** 2).mean(dim=1)
        return torch.nan_to_num(mse, nan=1e9, posinf=1e9)

    starts = random_starts(activations, seeds, restarts)
    flat = torch.tensor(np.concatenate([w.reshape(len(w), -1) for w in starts], axis=1))
    first = loss(flat.float(), restarts).reshape(n, restarts).argmin(dim=1)
    mean = flat.float()[first + torch.arange(n) * restarts]
    es = _SepCMA(n, dim, population, sigma)
    gen = torch.Generator().manual_seed(int(seeds[0]) if len(seeds) else 0)
    for _ in range(generations):
        z = torch.randn(n, population, dim, generator=gen)
        steps = es.scale[:, None, :] * z
        fitness = loss(
            (mean[:, None, :] + es.sigma[:, :, None] * steps).reshape(-1, dim), population
        )
        mean = es.update(mean, z, steps, fitness.reshape(n, population))
    mse = loss(mean, 1).numpy()
    weights = [w.numpy().astype(np.float64) for w in _unflatten(mean, shapes)]
    return [(CPPN(activations, [w[b] for w in weights]), float(mse[b])) for b in range(n)]


class _SepCMA:
    """The state of `n` independent separable CMA-ES runs in `dim` dimensions."""

    def __init__(self, n: int, dim: int, population: int, sigma: float) -> None:
        import torch

        mu = population // 2
        w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
        self.w = torch.tensor(w / w.sum(), dtype=torch.float32)[None, :, None]
        self.mu, self.mueff = mu, float(1 / (self.w**2).sum())
        me = self.mueff
        self.cs = (me + 2) / (dim + me + 5)
        self.ds = 1 + self.cs + 2 * max(0.0, np.sqrt((me - 1) / (dim + 1)) - 1)
        self.cc = 4 / (dim + 4)
        self.c1 = 2 / ((dim + 1.3) ** 2 + me) * (dim + 2) / 3
        self.cmu = min(1 - self.c1, 2 * (me - 2 + 1 / me) / ((dim + 2) ** 2 + me) * (dim + 2) / 3)
        self.chi = np.sqrt(dim) * (1 - 1 / (4 * dim) + 1 / (21 * dim * dim))
        self.sigma = torch.full((n, 1), float(sigma))
        self.ps, self.pc = torch.zeros(n, dim), torch.zeros(n, dim)
        self.var = torch.ones(n, dim)

    @property
    def scale(self) -> torch.Tensor:
        """Per-weight standard deviation (before sigma)."""
        return self.var.sqrt()

    def update(
        self, mean: torch.Tensor, z: torch.Tensor, steps: torch.Tensor, fitness: torch.Tensor
    ) -> torch.Tensor:
        """Select the best half, move the mean, adapt the paths, the scales and sigma."""
        import torch

        best = fitness.argsort(dim=1)[:, : self.mu, None].expand(-1, -1, z.shape[2])
        zs, ys = torch.gather(z, 1, best), torch.gather(steps, 1, best)
        zw, yw = (self.w * zs).sum(1), (self.w * ys).sum(1)
        mean = mean + self.sigma * yw
        self.ps = (1 - self.cs) * self.ps + np.sqrt(self.cs * (2 - self.cs) * self.mueff) * zw
        self.pc = (1 - self.cc) * self.pc + np.sqrt(self.cc * (2 - self.cc) * self.mueff) * yw
        rank_mu = (self.w * ys**2).sum(1)
        self.var = (1 - self.c1 - self.cmu) * self.var + self.c1 * self.pc**2 + self.cmu * rank_mu
        growth = self.ps.norm(dim=1, keepdim=True) / self.chi - 1
        self.sigma = self.sigma * torch.exp(self.cs / self.ds * growth)
        return mean
