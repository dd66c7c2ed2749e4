"""Datasets: torchvision's MNIST-format sets, their normalization and class names, offline-first.

The four official .gz files of a set placed in `<data_dir>/<Folder>/raw/` are found,
md5-checked and extracted by torchvision's own download step with no network.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset
from torchvision import datasets, transforms

from common.errors import UserError
from common.files import sha256_file


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str                       # our name, e.g. "mnist"
    tv_class: type                  # torchvision dataset class
    classes: tuple[str, ...]        # human-readable class names, index = label
    mean: float = 0.5               # the reference recipe's Normalize((0.5,), (0.5,)): pixels land in [-1, 1]
    std: float = 0.5
    tv_kwargs: tuple = ()           # extra torchvision arguments, e.g. EMNIST's split

    @property
    def folder(self) -> str:
        return self.tv_class.__name__

    @property
    def offline_files(self) -> tuple[tuple[str, str], ...]:
        """(name, md5) of the files torchvision's download step finds in raw/ instead of downloading:
        the four .gz files of most sets; EMNIST's one gzip.zip (its class keeps `url` and `md5`, and
        the `resources` it inherits from MNIST name MNIST's files, which it never reads)."""
        if hasattr(self.tv_class, "url"):
            return ((self.tv_class.url.rpartition("/")[2], self.tv_class.md5),)
        return tuple((url.rpartition("/")[2], md5) for url, md5 in self.tv_class.resources)

    def transform(self) -> transforms.Compose:
        """The per-image transform, exactly the reference recipe's: ToTensor then Normalize."""
        return transforms.Compose([transforms.ToTensor(), transforms.Normalize((self.mean,), (self.std,))])


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("mnist", datasets.MNIST, tuple(str(d) for d in range(10))),
    "fashion-mnist": DatasetSpec("fashion-mnist", datasets.FashionMNIST, tuple(datasets.FashionMNIST.classes)),
    "kmnist": DatasetSpec("kmnist", datasets.KMNIST, tuple(datasets.KMNIST.classes)),
    # EMNIST letters: labels 1..26 for a..z; torchvision keeps index 0 as "N/A".
    "emnist-letters": DatasetSpec("emnist-letters", datasets.EMNIST,
                                  ("N/A",) + tuple("abcdefghijklmnopqrstuvwxyz"), tv_kwargs=(("split", "letters"),)),
}


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def check_raw_files(spec: DatasetSpec, data_dir: Path) -> None:
    """Verify the .gz files that are present; name missing or corrupt ones with the fix."""
    raw = data_dir / spec.folder / "raw"
    for name, md5 in spec.offline_files:
        gz = raw / name
        if gz.exists() and hashlib.md5(gz.read_bytes()).hexdigest() != md5:
            raise UserError(f"{gz} is corrupt (md5 differs from torchvision's {md5}); "
                            f"replace it with the official file")


def load_split(spec: DatasetSpec, data_dir: Path, train: bool) -> datasets.VisionDataset:
    """torchvision's dataset, extracted from local .gz files (or downloaded where there is network)."""
    check_raw_files(spec, data_dir)
    raw = data_dir / spec.folder / "raw"
    names = [name for name, _ in spec.offline_files]
    try:
        return spec.tv_class(str(data_dir), train=train, download=True, transform=spec.transform(),
                             **dict(spec.tv_kwargs))
    except (OSError, RuntimeError, ValueError) as e:
        missing = [n for n in names if not (raw / n).exists() and not (raw / n.removesuffix(".gz")).exists()]
        if missing:
            raise UserError(f"{spec.name} files missing from {raw}: {missing}, and downloading them failed; "
                            f"copy those official files of {spec.name} there (for mnist `make data` copies them "
                            f"from MNIST_GZ_DIR) or run with network access") from None
        first = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
        raise UserError(f"cannot read the {spec.name} files in {raw} ({first}); delete the extracted "
                        f"(non-.gz) files there so they are re-extracted from the official .gz files") from None


def to_tensors(ds: datasets.VisionDataset, spec: DatasetSpec) -> TensorDataset:
    """Apply the reference recipe's transform to the whole set at once.

    ToTensor is x/255 as float32 and Normalize is (x - mean)/std, so doing both on the
    uint8 tensor gives the same values as per-image PIL transforms (tests check this),
    without ~60k PIL round trips per epoch (about 4 s an epoch on 2 cores).
    """
    images = ds.data.unsqueeze(1).float().div(255.0)
    images = transforms.functional.normalize(images, (spec.mean,), (spec.std,))
    return TensorDataset(images, ds.targets.long())


def stage_data(spec: DatasetSpec, data_dir: Path) -> dict[str, str] | None:
    """The data as a stage's input (common/stages.py): its files' hashes, or None when there are none
    yet, so the stage runs and its own checks say what is wrong in their order (the model first)."""
    raw = data_dir / spec.folder / "raw"
    if not raw.is_dir() or not any(raw.iterdir()):
        return None
    load_split(spec, data_dir, train=False)  # extracts the .gz files first: their hashes are what is read
    return raw_file_hashes(spec, data_dir)


def raw_file_hashes(spec: DatasetSpec, data_dir: Path) -> dict[str, str]:
    """sha256 of each extracted IDX file, recorded in the checkpoint as the data's identity."""
    raw = data_dir / spec.folder / "raw"
    if not raw.is_dir():
        raise UserError(f"no {spec.name} files in {raw}: copy the official files of {spec.name} there (for mnist "
                        f"`make data` copies them from MNIST_GZ_DIR) or pass --data-dir with the folder that has them")
    return {p.name: sha256_file(p) for p in sorted(raw.iterdir()) if p.is_file() and not p.name.endswith(".gz")}


def batches(ds: TensorDataset, batch_size: int, generator: torch.Generator | None = None) -> DataLoader:
    """A DataLoader that slices whole batches out of the tensors (shuffled if a generator is given).

    Feeding a BatchSampler as the sampler makes the dataset index with a list once per batch
    instead of 64 single-item lookups and a collate: same batches, ~10x less loader time.
    """
    base = RandomSampler(ds, generator=generator) if generator is not None else SequentialSampler(ds)
    return DataLoader(ds, sampler=BatchSampler(base, batch_size, drop_last=False), batch_size=None)


def split_train_val(ds: TensorDataset, val_size: int, seed: int) -> tuple[TensorDataset, TensorDataset]:
    """Hold `val_size` training images out for model selection; the test set stays untouched."""
    if not 0 < val_size < len(ds):
        raise UserError(f"val_size must be between 1 and {len(ds) - 1}, got {val_size}")
    perm = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = perm[:val_size], perm[val_size:]
    images, labels = ds.tensors
    return (TensorDataset(images[train_idx], labels[train_idx]),
            TensorDataset(images[val_idx], labels[val_idx]))


def load_test_set(spec: DatasetSpec, data_dir: Path) -> TensorDataset:
    """The full, normalized test set: what every later stage evaluates on."""
    return to_tensors(load_split(spec, data_dir, train=False), spec)
