import { readImages, tf, unitRows, type DatasetInfo, type FeatureSet, type ImageSet, type Tensor4D } from '../../core/index.js';
import { spreadIndices, writeGrid } from '../../plugins/callbacks/png-grid.js';

/** The picture's layout: magnification, and the frame (in image pixels) each image gets. */
export const NEIGHBOURS_LAYOUT = { queries: 8, neighbours: 8, scale: 3, frame: 1 } as const;

const FRAME = { query: [0.3, 0.3, 0.3], same: [0.1, 0.7, 0.2], other: [0.85, 0.1, 0.1] } as const;

/**
 * The `k` nearest rows of `f` to each query row by cosine similarity, the query itself excluded,
 * most similar first (ties: the lower index first).
 */
export function cosineNeighbours(f: FeatureSet, queries: ArrayLike<number>, k: number): Int32Array[] {
  const u = unitRows(f);
  const kk = Math.min(k, f.count - 1);
  return Array.from(queries, (q) => {
    const sims: Array<[number, number]> = [];
    for (let i = 0; i < f.count; i++) {
      if (i === q) continue;
      let s = 0;
      for (let j = 0; j < f.dim; j++) s += u[q * f.dim + j] * u[i * f.dim + j];
      sims.push([s, i]);
    }
    sims.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    return Int32Array.from(sims.slice(0, kk), ([, i]) => i);
  });
}

/** `[n, h + 2f, w + 2f, 3]` images in [0, 1]: each framed in its colour (grey images made RGB). */
async function framed(set: ImageSet, info: DatasetInfo, indices: number[], colours: ReadonlyArray<readonly number[]>, f: number): Promise<Tensor4D> {
  const { height: h, width: w, channels: c } = info;
  const H = h + 2 * f;
  const W = w + 2 * f;
  const px = await readImages(set, info, indices);
  const v = px.dataSync();
  px.dispose();
  const out = new Float32Array(indices.length * H * W * 3);
  indices.forEach((_, n) => {
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inside = y >= f && y < f + h && x >= f && x < f + w;
        const dst = ((n * H + y) * W + x) * 3;
        for (let k = 0; k < 3; k++) out[dst + k] = inside ? v[((n * h + y - f) * w + x - f) * c + (c === 3 ? k : 0)] : colours[n][k];
      }
  });
  return tf.tensor4d(out, [indices.length, H, W, 3]);
}

/**
 * `neighbours.png`: one row per query (evenly spread over the set), the query (grey frame) then its
 * nearest neighbours in `features` by cosine similarity, framed green where their label is the
 * query's and red where it is not; magnified `scale` times, 2 px gaps (png-grid's writeGrid).
 * Returns the queries and their neighbours (indices into the set).
 */
export async function writeNeighbours(
  set: ImageSet,
  info: DatasetInfo,
  features: FeatureSet,
  file: string,
): Promise<{ queries: number[]; neighbours: number[][] }> {
  const { queries: nq, neighbours: k, scale, frame } = NEIGHBOURS_LAYOUT;
  const queries = Array.from(spreadIndices(features.count, nq));
  const neighbours = cosineNeighbours(features, queries, k).map((n) => Array.from(n));
  const rows = await Promise.all(
    queries.map((q, r) =>
      framed(
        set,
        info,
        [q, ...neighbours[r]],
        [FRAME.query, ...neighbours[r].map((i) => (features.labels[i] === features.labels[q] ? FRAME.same : FRAME.other))],
        frame,
      ),
    ),
  );
  try {
    await writeGrid(rows, scale, file);
  } finally {
    tf.dispose(rows);
  }
  return { queries, neighbours };
}
