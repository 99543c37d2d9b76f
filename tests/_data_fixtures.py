"""Tiny copies of the published dataset layouts, written with Pillow / pickle / numpy, and a local HTTP server.

Each ``write_*`` function lays files out exactly as the publisher distributes them (names, folders,
formats), with a handful of small images, and returns the root to pass as ``--data-root``.
"""

from __future__ import annotations

import http.server
import pickle
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

SIZE = 24  # side of the generated images, pixels


def _rng(seed: int) -> np.random.RandomState:
    return np.random.RandomState(seed)


def rgb(seed: int, size: tuple[int, int] = (SIZE, SIZE)) -> Image.Image:
    return Image.fromarray(_rng(seed).randint(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def disc_mask(seed: int, size: tuple[int, int] = (SIZE, SIZE), high: int = 255) -> np.ndarray:
    """A filled disc at a seed-dependent place: values 0 / ``high``."""
    rng = _rng(seed)
    cx, cy, r = rng.randint(6, size[0] - 6), rng.randint(6, size[1] - 6), rng.randint(3, 6)
    y, x = np.mgrid[0 : size[1], 0 : size[0]]
    return np.where((x - cx) ** 2 + (y - cy) ** 2 <= r * r, high, 0).astype(np.uint8)


def write_kvasir(root: Path, count: int = 6, folder: str = "Kvasir-SEG") -> Path:
    """``Kvasir-SEG/images/<id>.jpg`` + ``Kvasir-SEG/masks/<id>.jpg`` as the zip unpacks."""
    base = root / folder
    (base / "images").mkdir(parents=True)
    (base / "masks").mkdir()
    for i in range(count):
        key = f"cju{i:04d}abc"
        rgb(i).save(base / "images" / f"{key}.jpg", quality=90)
        Image.fromarray(disc_mask(i)).save(base / "masks" / f"{key}.jpg", quality=90)
    return root


def write_cvc_official(root: Path, numbers: range = range(1, 31)) -> Path:
    """``Original/N.tif`` + ``Ground Truth/N.tif`` (the official CVC-ClinicDB release)."""
    (root / "Original").mkdir(parents=True)
    (root / "Ground Truth").mkdir()
    for n in numbers:
        rgb(n, (32, 24)).save(root / "Original" / f"{n}.tif")
        Image.fromarray(disc_mask(n, (32, 24))).save(root / "Ground Truth" / f"{n}.tif")
    return root


def write_isic(root: Path, count: int = 5) -> Path:
    inputs = root / "ISIC2018_Task1-2_Training_Input"
    truth = root / "ISIC2018_Task1_Training_GroundTruth"
    inputs.mkdir(parents=True)
    truth.mkdir()
    (inputs / "LICENSE.txt").write_text("CC BY-NC 4.0\n")
    (truth / "ATTRIBUTION.txt").write_text("ISIC\n")
    for i in range(count):
        rgb(i, (30, 20)).save(inputs / f"ISIC_{i:07d}.jpg")
        Image.fromarray(disc_mask(i, (30, 20))).save(truth / f"ISIC_{i:07d}_segmentation.png")
    return root


BUSI_COUNTS = {"benign": 6, "malignant": 5, "normal": 5}


def write_busi(root: Path, counts: dict[str, int] = BUSI_COUNTS) -> Path:
    """``Dataset_BUSI_with_GT/<class>/<class> (N).png`` + ``_mask.png``; benign (1) has a second mask."""
    base = root / "Dataset_BUSI_with_GT"
    for label, count in counts.items():
        folder = base / label
        folder.mkdir(parents=True)
        for n in range(1, count + 1):
            stem = f"{label} ({n})"
            Image.fromarray(_rng(n).randint(0, 256, (SIZE, SIZE), dtype=np.uint8)).convert("RGB").save(
                folder / f"{stem}.png"
            )
            mask = np.zeros((SIZE, SIZE), np.uint8) if label == "normal" else disc_mask(n)
            Image.fromarray(mask).save(folder / f"{stem}_mask.png")
    second = np.zeros((SIZE, SIZE), np.uint8)
    second[:3, :3] = 255
    Image.fromarray(second).save(base / "benign" / "benign (1)_mask_1.png")
    return root


def write_glas(root: Path, train: int = 10, test_a: int = 3, test_b: int = 2, patients: int = 5) -> Path:
    """One folder of ``train_N.bmp`` / ``train_N_anno.bmp`` (instance labels), testA/testB, ``Grade.csv``."""
    base = root / "Warwick QU Dataset (Released 2016_07_08)"
    base.mkdir(parents=True)
    rows = ["name,Patient ID,grade (GlaS),grade (Sirinukunwattana et al. 2015)"]
    for offset, (prefix, count) in enumerate((("train", train), ("testA", test_a), ("testB", test_b))):
        for n in range(1, count + 1):
            seed = 100 * offset + n
            rgb(seed).save(base / f"{prefix}_{n}.bmp")
            labels = disc_mask(seed, high=1)
            labels[:4, :4] = 2  # a second gland instance
            Image.fromarray(labels).save(base / f"{prefix}_{n}_anno.bmp")
            rows.append(f"{prefix}_{n},{n % patients + 1},benign,adenomatous")
    (base / "Grade.csv").write_text("\n".join(rows) + "\n")
    return root


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root: Path, per_batch: int = 20, test: int = 10) -> Path:
    """``cifar-10-batches-py/`` pickle batches in the publisher's format (rows of 3072 uint8, CHW order)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for b in range(1, 7):
        count = test if b == 6 else per_batch
        name = "test_batch" if b == 6 else f"data_batch_{b}"
        entry = {
            "batch_label": f"{name} of 6".encode(),
            "labels": [(b + i) % 10 for i in range(count)],
            "data": _rng(b).randint(0, 256, (count, 3072), dtype=np.uint8),
            "filenames": [f"img_{b}_{i}.png".encode() for i in range(count)],
        }
        with open(folder / name, "wb") as out:
            pickle.dump(entry, out, protocol=2)
    with open(folder / "batches.meta", "wb") as out:
        pickle.dump({"label_names": CIFAR_CLASSES, "num_cases_per_batch": per_batch, "num_vis": 3072}, out, protocol=2)
    return root


MEDSEGBENCH_SIZES = {"train": 8, "val": 3, "test": 4}


def write_medsegbench(root: Path, side: int = 16) -> Path:
    """``<name>_<size>.npz`` with ``{split}_images`` (N,H,W,3) uint8 and ``{split}_label`` (N,H,W) in {0,1}."""
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for i, (split, count) in enumerate(MEDSEGBENCH_SIZES.items()):
        arrays[f"{split}_images"] = _rng(i).randint(0, 256, (count, side, side, 3), dtype=np.uint8)
        arrays[f"{split}_label"] = np.stack([disc_mask(i * 10 + j, (side, side), high=1) for j in range(count)])
    path = root / f"tinyset_{side}.npz"
    np.savez(path, **arrays)
    return path


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` (name -> bytes) and honours ``Range: bytes=N-`` with 206 responses."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.server.files.get(self.path.lstrip("/"))
        self.server.requests.append((self.path, self.headers.get("Range")))
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args) -> None:
        pass


@contextmanager
def http_server(files: dict[str, bytes]) -> Iterator[tuple[str, list]]:
    """A server on 127.0.0.1 at a free port in a thread; yields (base URL, list of (path, Range header))."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    server.files, server.requests = files, []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
