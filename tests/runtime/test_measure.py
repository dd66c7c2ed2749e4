"""runtime/measure.py: the accuracy pass feeds the runner `accuracy_batch` images at a time, and a
row takes the export's verified accuracy only when it would compute exactly the same."""
import dataclasses

import numpy as np

from export.manifest import Artifact, versions
from runtime import runners
from runtime.measure import Bench, Job, evaluate, exported_scores
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


ARTIFACT = Artifact("mlp_onnx_fp32", "onnx", "cpu", "none", "none", "ok", path="a.onnx", sha256="a" * 64,
                    size_bytes=1, test_accuracy=0.97, parity={"max_abs_diff": 1e-6, "top1_agreement": 1.0})
JOB = Job("onnxruntime", "cpu", {}, None, sha256=ARTIFACT.sha256, artifact=ARTIFACT)
# the export's facts as the manifest records them: the installed ORT, batch 1000 (export.verify.BATCH), 1 thread
BENCH = Bench(images=np.zeros((1, 1, 28, 28), np.float32), labels=np.zeros(1), reference_top1=np.zeros(1),
              reference_accuracy=0.97, budget_pp=0.3, method=None, batches=(1,), threads=(1,), accuracy_batch=1000,
              peak_rss=False, export_versions=versions(("onnxruntime",)), export_threads=1)


def test_a_row_takes_the_exports_accuracy_only_when_it_would_compute_the_same():
    assert exported_scores(JOB, BENCH) == {"accuracy": 0.97, "top1_agreement": 1.0, "accuracy_source": "export"}
    for different in ({"export_versions": {"onnxruntime": "1.0.0"}},  # another runtime build
                      {"accuracy_batch": 256},                       # int8-dynamic quantizes each batch whole
                      {"export_threads": 2}, {"threads": (1, 2)}):   # the pass runs at max(threads)
        assert exported_scores(JOB, dataclasses.replace(BENCH, **different)) is None, different
    assert exported_scores(dataclasses.replace(JOB, runtime="onnxruntime-cuda"), BENCH) is None  # never exported
    assert exported_scores(dataclasses.replace(JOB, artifact=None), BENCH) is None  # the checkpoint: measured
    pruned = dataclasses.replace(JOB, artifact=dataclasses.replace(ARTIFACT, pruning="structured"))
    # a pruned artifact's export parity is against its pruned source, not the fp32 reference: no agreement
    assert exported_scores(pruned, BENCH) == {"accuracy": 0.97, "top1_agreement": None, "accuracy_source": "export"}
