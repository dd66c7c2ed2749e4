"""runtime/measure.py: the accuracy pass feeds the runner `accuracy_batch` images at a time."""
import numpy as np

from runtime.measure import evaluate


class Recording:
    """A linear classifier on the first 10 pixels that records every batch size it is given."""

    def __init__(self):
        self.batches = []

    def predict(self, x):
        self.batches.append(len(x))
        return x.reshape(len(x), -1)[:, :10].copy()


def test_accuracy_batch_sets_the_chunk_size_and_never_the_result():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((1000, 1, 28, 28)).astype(np.float32)
    predicted = images.reshape(1000, -1)[:, :10].argmax(1)
    labels = predicted.copy()
    labels[:100] = (labels[:100] + 1) % 10  # 100 of 1000 wrong: accuracy 0.9
    results = {}
    for batch in (1000, 256, 7):
        runner = Recording()
        results[batch] = evaluate(runner, images, labels, predicted, batch)
        assert runner.batches == [batch] * (1000 // batch) + ([1000 % batch] if 1000 % batch else [])
    assert results[1000] == results[256] == results[7] == {"accuracy": 0.9, "top1_agreement": 1.0}
