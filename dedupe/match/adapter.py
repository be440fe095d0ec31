"""A learned low-rank adapter on the encoder's vectors, for the scorer's dense feature.

Hand-written twins (a proposal re-worded from scratch, a note against a charter) sit at a dense
cosine of 0.45-0.6, where a new proposal's nearest unrelated record also sits. The adapter maps
x -> x + (x B) Aᵀ (A, B: d x r, r << d), learned so that duplicates come closer (logistic loss
on the adapted cosine over labelled pairs, an L2 pull towards the identity). The scorer's dense
feature is then `blend * raw cosine + (1 - blend) * adapted cosine`; retrieval and the
similarity shown to users stay the raw cosine.

The adapted cosine is computed from r-dimensional projections, never from d-dimensional
adapted copies: with P = x B, Q = x A and G = Aᵀ A,

    x'·y' = x·y + P_x·Q_y + Q_x·P_y + P_x G P_yᵀ        |x'|² = |x|² + 2 P_x·Q_x + P_x G P_xᵀ

so an index keeps 2r + 1 numbers a record (65 at r = 32) and a pair costs O(r²).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np

from dedupe.errors import CalibrationError

ADAPTERS = "adapters"  # package folder of dedupe.match holding <name>.npz (arrays a, b)


@dataclass(frozen=True)
class Projection:
    """Vectors as the adapter sees them: x B, x A and |x'|² (one row per vector)."""

    p: np.ndarray
    q: np.ndarray
    norm2: np.ndarray

    def take(self, rows: np.ndarray) -> Projection:
        return Projection(self.p[rows], self.q[rows], self.norm2[rows])


@dataclass(frozen=True)
class DenseAdapter:
    """x -> x + (x B) Aᵀ, and the dense feature it gives (`blend`: the raw cosine's weight)."""

    name: str
    a: np.ndarray
    b: np.ndarray
    blend: float = 0.0

    @cached_property
    def gram(self) -> np.ndarray:
        """Aᵀ A (r x r), once: every projection and pair score uses it."""
        return np.asarray(self.a.T @ self.a)

    def project(self, vectors: np.ndarray, chunk: int = 65536) -> Projection:
        """The projections of `vectors` (n x d; a float16 memory map is read a chunk at a time)."""
        shape = np.shape(vectors)
        if len(shape) != 2 or shape[1] != self.a.shape[0]:
            raise CalibrationError(
                f"adapter {self.name!r} is for {self.a.shape[0]}-d vectors, got shape {shape}"
            )
        g = self.gram
        ps, qs, ns = [], [], []
        for s in range(0, max(shape[0], 1), chunk):
            xs = np.asarray(vectors[s : s + chunk], dtype=np.float32)
            p, q = xs @ self.b, xs @ self.a
            n2 = np.einsum("nd,nd->n", xs, xs) + 2 * np.einsum("nr,nr->n", p, q)
            ns.append(n2 + np.einsum("nr,rs,ns->n", p, g, p))
            ps.append(p)
            qs.append(q)
        return Projection(np.vstack(ps), np.vstack(qs), np.concatenate(ns))

    def cosine(self, raw: np.ndarray, pa: Projection, pb: Projection) -> np.ndarray:
        """The adapted cosine of pairs whose raw dot product is `raw` (1-D); `pa`, `pb` hold
        their sides' projections, aligned (or one row, broadcast)."""
        g = self.gram
        dot = (
            np.asarray(raw, dtype=np.float64)
            + np.sum(pa.p * pb.q, axis=1)
            + np.sum(pa.q * pb.p, axis=1)
            + np.sum((pa.p @ g) * pb.p, axis=1)
        )
        norm = np.sqrt(np.maximum(pa.norm2, 1e-12) * np.maximum(pb.norm2, 1e-12))
        return np.asarray(dot / norm, dtype=np.float64)

    def feature(self, raw: np.ndarray, pa: Projection, pb: Projection) -> np.ndarray:
        """The scorer's dense feature: `blend` raw cosine + (1 - `blend`) adapted cosine."""
        raw = np.asarray(raw, dtype=np.float64)
        return self.blend * raw + (1.0 - self.blend) * self.cosine(raw, pa, pb)

    def save(self, path: str) -> None:
        np.savez_compressed(path, a=self.a, b=self.b)


@lru_cache(maxsize=8)
def load_adapter(name: str, blend: float) -> DenseAdapter:
    """A shipped adapter by name (`dedupe/match/adapters/<name>.npz`)."""
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*", name):
        raise CalibrationError(f"scorer adapter name {name!r} is not a shipped adapter's name")
    entry = resources.files("dedupe.match").joinpath(ADAPTERS).joinpath(f"{name}.npz")
    try:
        with entry.open("rb") as fh, np.load(fh) as data:
            a = np.asarray(data["a"], dtype=np.float32)
            b = np.asarray(data["b"], dtype=np.float32)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise CalibrationError(
            f"scorer adapter {name!r} is not shipped with this version of dedupe ({exc})"
        ) from exc
    if not 0.0 <= blend <= 1.0:
        raise CalibrationError(f"adapter blend must be within 0..1, got {blend}")
    return DenseAdapter(name, a, b, blend)


def fit_adapter(
    u: np.ndarray,
    v: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    rank: int = 32,
    lam: float = 1.0,
    steps: int = 300,
    seed: int = 0,
    name: str = "custom",
) -> DenseAdapter:
    """Learn (A, B) from labelled vector pairs: weighted logistic loss on a learned affine map
    of the adapted cosine, plus `lam` |A Bᵀ|² / d (Adam, full batch, `steps` steps). A starts
    at zero, so the fit starts at the identity. Needs torch (a sentence-transformers
    dependency)."""
    import torch

    if len(u) != len(v) or len(u) != len(y) or not 0 < float(np.sum(y)) < len(y):
        raise CalibrationError("need aligned vector pairs with both labels to fit an adapter")
    torch.manual_seed(seed)
    wt = np.ones(len(y)) if weight is None else np.asarray(weight)
    u_t, v_t, y_t, w_t = (torch.tensor(np.asarray(t, dtype=np.float32)) for t in (u, v, y, wt))
    d = u_t.shape[1]
    a_m = torch.zeros(d, rank, requires_grad=True)
    b_m = (torch.randn(d, rank) * 0.01).requires_grad_()
    scale = torch.tensor(10.0, requires_grad=True)
    shift = torch.tensor(-6.0, requires_grad=True)
    opt = torch.optim.Adam([a_m, b_m, scale, shift], lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        m = a_m @ b_m.T
        s = torch.nn.functional.cosine_similarity(u_t + u_t @ m.T, v_t + v_t @ m.T)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            scale * s + shift, y_t, reduction="none"
        )
        loss = (w_t * bce).sum() / w_t.sum() + lam * (m**2).sum() / d
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
    return DenseAdapter(name, a_m.detach().numpy(), b_m.detach().numpy())
