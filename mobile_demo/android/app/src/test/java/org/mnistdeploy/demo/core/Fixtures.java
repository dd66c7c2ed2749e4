package org.mnistdeploy.demo.core;

/** Small documents in the manifest.md schema, built in code so each test states what it changes. */
final class Fixtures {
    private Fixtures() {}

    static String manifest(String inputShape, String artifactPath) {
        return "{\"schema_version\": 1, \"run_id\": \"t\","
                + "\"dataset\": {\"name\": \"mnist\", \"classes\": [\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]},"
                + "\"input\": {\"name\": \"input\", \"shape\": " + inputShape + ", \"dtype\": \"float32\","
                + "  \"normalization\": {\"scale\": 255.0, \"mean\": [0.5], \"std\": [0.5]}},"
                + "\"output\": {\"name\": \"logits\", \"shape\": [\"batch\", 10], \"dtype\": \"float32\"},"
                + "\"test_vectors\": {\"path\": \"test_vectors.json\", \"sha256\": \"ab\", \"count\": 2,"
                + "  \"quantized_check\": {\"max_flip_rate\": 0.01, \"false_alarm\": 0.001}},"
                + "\"artifacts\": ["
                + " {\"name\": \"mlp_onnx_fp32\", \"format\": \"onnx\", \"backend\": \"cpu\", \"quantization\": \"none\","
                + "  \"pruning\": \"none\", \"path\": " + artifactPath + ", \"sha256\": \"cd\", \"status\": \"ok\"},"
                + " {\"name\": \"mlp_executorch-xnnpack_fp32\", \"format\": \"executorch\", \"backend\": \"xnnpack\","
                + "  \"quantization\": \"none\", \"pruning\": \"none\", \"path\": \"mlp_executorch-xnnpack_fp32.pte\","
                + "  \"sha256\": \"ef\", \"status\": \"ok\"},"
                + " {\"name\": \"mlp_torchscript_fp32\", \"format\": \"torchscript\", \"backend\": \"cpu\","
                + "  \"quantization\": \"none\", \"pruning\": \"none\", \"path\": \"mlp_torchscript_fp32.pt\","
                + "  \"sha256\": \"01\", \"status\": \"ok\"},"
                + " {\"name\": \"mlp_onnx_int8-dynamic\", \"format\": \"onnx\", \"backend\": \"cpu\","
                + "  \"quantization\": \"int8-dynamic\", \"pruning\": \"none\", \"path\": null, \"sha256\": null,"
                + "  \"status\": \"failed\", \"reason\": \"x\"}"
                + "]}";
    }

    static String manifest() {
        return manifest("[\"batch\", 1, 28, 28]", "\"mlp_onnx_fp32.onnx\"");
    }

    /** count 1x1 "images" whose reference logits all pick class 0 (for the flips rule at any count). */
    static String vectors(int count) {
        StringBuilder px = new StringBuilder(), labels = new StringBuilder(), logits = new StringBuilder();
        for (int k = 0; k < count; k++) {
            String sep = k == 0 ? "" : ",";
            px.append(sep).append("[").append(k % 256).append("]");
            labels.append(sep).append("0");
            logits.append(sep).append("[1.0, 0.0]");
        }
        return "{\"count\": " + count + ", \"input_shape\": [1, 1, 1],"
                + "\"normalization\": {\"scale\": 255.0, \"mean\": [0.5], \"std\": [0.5]},"
                + "\"labels\": [" + labels + "], \"pixels\": [" + px + "],"
                + "\"expected_logits\": [" + logits + "], \"tolerance\": {\"fp32_max_abs_diff\": 1e-4}}";
    }

    /** Two 2x2 "images" with 3-class logits: enough to exercise parsing and verification. */
    static String vectors() {
        return "{\"count\": 2, \"input_shape\": [1, 2, 2],"
                + "\"normalization\": {\"scale\": 255.0, \"mean\": [0.5], \"std\": [0.5]},"
                + "\"indices\": [0, 1], \"labels\": [2, 0],"
                + "\"pixels\": [[0, 255, 0, 255], [255, 255, 0, 0]],"
                + "\"expected_logits\": [[0.1, -1.0, 3.5], [2.0, 1.0, -0.5]],"
                + "\"tolerance\": {\"fp32_max_abs_diff\": 1e-4}}";
    }
}
