"""runtime/measure.py: the accuracy pass feeds the runner `accuracy_batch` images at a time."""
import numpy as np

from runtime import runners
from runtime.measure import evaluate
from train import data


class Recording:
    """A real runner (torch-eager on the trained checkpoint) that records every batch size it is given."""

    def __init__(self, runner):
        self.runner, self.batches = runner, []

    def predict(self, x):
        self.batches.append(len(x))
        return self.runner.predict(x)


def test_accuracy_batch_sets_the_chunk_size_and_never_the_result(trained, data_dir):
    test = data.load_test_set(data.get_spec("mnist"), data_dir)
    images, labels = np.ascontiguousarray(test.tensors[0][:1000].numpy()), test.tensors[1][:1000].numpy()
    eager = runners.load("torch-eager", trained, 1)
    reference = eager.predict(images).argmax(1)
    want = {"accuracy": float((reference == labels).mean()), "top1_agreement": 1.0}
    assert 0.9 < want["accuracy"] < 1.0  # a trained model on real test images: some wrong, most right
    for batch in (1000, 256, 7):
        runner = Recording(eager)
        assert evaluate(runner, images, labels, reference, batch) == want, batch
        assert runner.batches == [batch] * (1000 // batch) + ([1000 % batch] if 1000 % batch else [])
