// The demo's platform-independent logic, identical step for step to mobile_demo/preprocess.py (the
// reference) and the Android app's core/*.java; tests/mobile_demo/ compares them. No DOM here.

/** MNIST's digits fit 20x20 inside 28x28; other input sizes keep that ratio. */
export function boxFor(size) {
  return Math.max(1, Math.floor(size * 20 / 28 + 0.5));
}

/**
 * Drawing (gray[h*w], white ink on black, 0..255) -> size*size pixel values 0..255 (Float64Array):
 * ink bounding box, longer side scaled to 20 (of 28) by box averaging with integer bounds, placed
 * so its centre of mass sits at the centre. See mobile_demo/preprocess.py for the full statement.
 */
export function toPixels(gray, width, height, size) {
  if (gray.length !== width * height) {
    throw new Error(`image has ${gray.length} pixels, expected ${width}x${height}`);
  }
  const out = new Float64Array(size * size);
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1, longest = Math.max(bw, bh), box = boxFor(size);
  const idiv = (a, b) => Math.floor(a / b);  // integer division of non-negative integers
  const tw = Math.max(1, idiv(2 * bw * box + longest, 2 * longest));
  const th = Math.max(1, idiv(2 * bh * box + longest, 2 * longest));
  const patch = new Float64Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    const sy0 = idiv(ty * bh, th), sy1 = Math.max(idiv((ty + 1) * bh, th), sy0 + 1);
    for (let tx = 0; tx < tw; tx++) {
      const sx0 = idiv(tx * bw, tw), sx1 = Math.max(idiv((tx + 1) * bw, tw), sx0 + 1);
      let sum = 0;  // integers below 2^53: exact
      for (let y = sy0; y < sy1; y++) {
        for (let x = sx0; x < sx1; x++) sum += gray[(y0 + y) * width + x0 + x];
      }
      patch[ty * tw + tx] = sum / ((sy1 - sy0) * (sx1 - sx0));
    }
  }
  let mass = 0, mx = 0, my = 0;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const v = patch[ty * tw + tx];
      mass += v; mx += v * (tx + 0.5); my += v * (ty + 0.5);
    }
  }
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const ox = clamp(Math.floor(size / 2 - mx / mass + 0.5), 0, size - tw);
  const oy = clamp(Math.floor(size / 2 - my / mass + 0.5), 0, size - th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) out[(oy + ty) * size + ox + tx] = patch[ty * tw + tx];
  }
  return out;
}

/** x = (pixel / scale - mean) / std in double, stored as float32 (as Java and numpy do). */
export function normalize(pixels, norm) {
  const out = new Float32Array(pixels.length);
  for (let k = 0; k < pixels.length; k++) out[k] = (pixels[k] / norm.scale - norm.mean[0]) / norm.std[0];
  return out;
}

export function softmax(logits) {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Index of the largest value, the first one on ties (as numpy.argmax). */
export function argmax(v) {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
  return best;
}

/** numpy's default "linear" percentile of sorted samples: rank = q/100 * (n-1). */
export function percentile(sorted, q) {
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Same definitions as runtime/stats.py and LatencyStats.java; samples in microseconds. */
export function latencyStats(samplesUs) {
  if (samplesUs.length === 0) throw new Error('no latency samples');
  const s = Float64Array.from(samplesUs).sort();
  const mean = (a, b) => { let t = 0; for (let k = a; k < b; k++) t += s[k]; return t / (b - a); };
  const cut = Math.floor(s.length / 10);  // trimmed mean: middle 80%
  return {
    p50_us: percentile(s, 50), p90_us: percentile(s, 90), p99_us: percentile(s, 99),
    mean_us: mean(0, s.length), trimmed_mean_us: mean(cut, s.length - cut),
  };
}

/**
 * The top-1 flips a quantized artifact may show on n vectors: the smallest k with
 * P[Binomial(n, check.max_flip_rate) > k] <= check.false_alarm (the manifest's
 * test_vectors.quantized_check; same arithmetic, step for step, as QuantizedCheck.java and
 * export/verify.py's allowed_flips).
 */
export function allowedFlips(n, check) {
  const r = check.max_flip_rate;
  let p = 1.0;  // (1 - r)^n by repeated products: exactly rounded steps, as in Java and Python
  for (let k = 0; k < n; k++) p *= 1.0 - r;
  let cdf = p, k = 0;
  while (k < n && 1.0 - cdf > check.false_alarm) {
    p *= (n - k) / (k + 1) * (r / (1.0 - r));  // P[X = k + 1]
    cdf += p;
    k++;
  }
  return k;
}

/**
 * Compare an artifact's logits on the test vectors with the fp32 reference logits. quantized: the
 * manifest's test_vectors.quantized_check for a quantized artifact (judged on top-1 flips only),
 * null for fp32 (all top-1 agree and max |diff| within the vectors' fp32 tolerance).
 */
export function compare(logits, vectors, quantized) {
  let agree = 0, maxDiff = 0;
  vectors.expected_logits.forEach((want, k) => {
    if (argmax(logits[k]) === argmax(want)) agree++;
    want.forEach((w, j) => { maxDiff = Math.max(maxDiff, Math.abs(logits[k][j] - w)); });
  });
  const n = vectors.count, tol = vectors.tolerance.fp32_max_abs_diff;
  const allowed = quantized ? allowedFlips(n, quantized) : 0;
  const passed = quantized ? n - agree <= allowed : agree === n && maxDiff <= tol;
  const binomial = quantized && `P[Binomial(${n}, ${quantized.max_flip_rate}) > ${allowed}] <= ${quantized.false_alarm}`;
  const rule = quantized ? `quantized: at most ${allowed} top-1 flips of ${n} (${binomial})`
                         : `fp32: all top-1 agree and max |diff| <= ${tol}`;
  return { top1_agreement: agree / n, max_abs_diff: maxDiff, count: n, passed, rule };
}
