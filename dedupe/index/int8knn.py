"""k nearest neighbours by inner product on int8-quantised vectors, for the clustered all-pairs
search: onnxruntime's `MatMulInteger` (integer kernels: VNNI where the CPU has it) followed by
`TopK`, one small ONNX graph built in memory. Measured on 2 cores (AVX-512 VNNI): a 600 × 600 ×
512 block in 1.5 ms against 2.5 ms for FAISS's float32 `knn`, 15k × 15k in 0.64 s against 1.24 s.

Quantisation: one scale for all vectors (127 / the largest absolute component), so products
are comparable across blocks; the error of a cosine is ~0.0005 (USE vectors), which only
reorders near-ties: callers re-score the neighbours they keep in float32.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


class Int8Vectors:
    """Vectors quantised once; `knn(rows, k)` searches a block of them against itself."""

    def __init__(self, vectors: np.ndarray, threads: int) -> None:
        peak = float(np.abs(vectors).max()) if len(vectors) else 1.0
        scale = 127.0 / peak if peak > 0 else 1.0
        scaled = np.multiply(vectors, np.float32(scale), dtype=np.float32)
        self.q = np.rint(scaled, out=scaled).astype(np.int8)  # |values| <= 127 by the scale
        self._session = _session(threads)

    def knn(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(products, positions into `rows`) of each row's k largest int8 products within the
        block, best first; the row itself is among them. Products are integers, comparable
        across blocks (cosine × scale²)."""
        k = min(k, len(rows))
        block = self.q[rows]
        values, idx = self._session.run(
            None,
            {
                # MatMulInteger's left side is uint8 with a zero point: v + 128 == (v as u8) ^ 0x80
                "A": block.view(np.uint8) ^ np.uint8(0x80),
                "B": np.ascontiguousarray(block.T),
                "K": np.asarray([k], dtype=np.int64),
            },
        )
        return np.asarray(values), np.asarray(idx)


@lru_cache(maxsize=4)
def _session(threads: int) -> Any:
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("MatMulInteger", ["A", "B", "zero"], ["G"]),
            helper.make_node("TopK", ["G", "K"], ["V", "I"], axis=1),
        ],
        "int8_knn",
        [
            helper.make_tensor_value_info("A", TensorProto.UINT8, ["m", "d"]),
            helper.make_tensor_value_info("B", TensorProto.INT8, ["d", "n"]),
            helper.make_tensor_value_info("K", TensorProto.INT64, [1]),
        ],
        [
            helper.make_tensor_value_info("V", TensorProto.INT32, ["m", "k"]),
            helper.make_tensor_value_info("I", TensorProto.INT64, ["m", "k"]),
        ],
        initializer=[helper.make_tensor("zero", TensorProto.UINT8, [], [128])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
