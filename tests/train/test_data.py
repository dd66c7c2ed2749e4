"""Data loading on real MNIST: the offline path, the fast transform, and bad data folders."""
from __future__ import annotations

import shutil

import pytest
import torch

from common.errors import UserError
from train import data


def test_offline_copy_is_found_and_extracted(data_dir, tmp_path):
    """The four .gz files alone (no extracted files, no network) are enough: torchvision extracts them."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (data_dir / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(gz, raw / gz.name)
    spec = data.get_spec("mnist")
    test = data.load_split(spec, tmp_path, train=False)
    assert len(test) == 10_000
    assert torch.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_whole_set_transform_equals_the_per_image_transform(data_dir):
    spec = data.get_spec("mnist")
    ds = data.load_split(spec, data_dir, train=False)
    fast = data.to_tensors(ds, spec)
    for i in (0, 1, 4321, 9999):
        image, label = ds[i]  # PIL -> ToTensor -> Normalize, exactly the reference recipe's transform
        assert torch.equal(fast.tensors[0][i], image)
        assert fast.tensors[1][i].item() == label
    assert fast.tensors[0].min() >= -1.0 and fast.tensors[0].max() <= 1.0


def test_validation_split_is_disjoint_and_seeded(data_dir):
    spec = data.get_spec("mnist")
    full = data.to_tensors(data.load_split(spec, data_dir, train=True), spec)
    train_a, val_a = data.split_train_val(full, 5000, seed=0)
    train_b, val_b = data.split_train_val(full, 5000, seed=0)
    assert len(train_a) == 55_000 and len(val_a) == 5000
    assert torch.equal(val_a.tensors[0], val_b.tensors[0])
    assert len(train_a) + len(val_a) == len(full)


def test_missing_files_name_the_files_and_the_folder(tmp_path):
    with pytest.raises(UserError) as e:
        data.load_split(data.get_spec("mnist"), tmp_path, train=False)
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and str(tmp_path / "MNIST" / "raw") in msg
    assert "\n" not in msg


def test_missing_emnist_files_are_emnists_own(tmp_path):
    """EMNIST's torchvision class downloads one gzip.zip; MNIST's file names would send the user
    to copy the wrong set."""
    with pytest.raises(UserError) as e:
        data.load_split(data.get_spec("emnist-letters"), tmp_path, train=False)
    msg = str(e.value)
    assert "['gzip.zip']" in msg and str(tmp_path / "EMNIST" / "raw") in msg
    assert "idx3" not in msg and "mnist/" not in msg and "\n" not in msg


def test_corrupt_file_is_named_with_the_fix(data_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (data_dir / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(gz, raw / gz.name)
    victim = raw / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(UserError, match="t10k-labels-idx1-ubyte.gz is corrupt"):
        data.load_split(data.get_spec("mnist"), tmp_path, train=False)


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(UserError, match="fashion-mnist"):
        data.get_spec("cifar10")


def test_class_names_cover_every_label_of_the_real_data(data_dir):
    test = data.load_split(data.get_spec("mnist"), data_dir, train=False)
    assert len(data.get_spec("mnist").classes) == int(test.targets.max()) + 1 == len(test.targets.unique())
