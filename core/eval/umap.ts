import type { FeatureSet } from '../contracts/evaluator.js';
import { Rng } from '../rng.js';

/** Unit-length rows of a feature set (a zero row stays zero): cosine similarity as a dot product, Euclidean distance as the cosine's. */
export function unitRows(f: FeatureSet): Float32Array {
  const out = new Float32Array(f.x.length);
  for (let i = 0; i < f.count; i++) {
    let s = 0;
    for (let j = 0; j < f.dim; j++) s += f.x[i * f.dim + j] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < f.dim; j++) out[i * f.dim + j] = f.x[i * f.dim + j] * inv;
  }
  return out;
}

export interface UmapOptions {
  seed: number;
  nNeighbors?: number;
  minDist?: number;
  /** optimisation epochs (default: umap-js's choice, 500 up to 2,500 points) */
  epochs?: number;
  onEpoch?: (epoch: number, total: number) => void;
}

/**
 * A 2-D UMAP (McInnes et al. 2018, umap-js) of feature rows, L2-normalised first so that its
 * Euclidean neighbourhoods are the cosine ones. Deterministic: umap-js draws from the seeded Rng.
 */
export async function umap2d(f: FeatureSet, opts: UmapOptions): Promise<{ points: Array<[number, number]>; params: Record<string, number> }> {
  const { UMAP } = await import('umap-js'); // at use: importing selfsup stays light
  const unit = unitRows(f);
  const rows = Array.from({ length: f.count }, (_, i) => Array.from(unit.subarray(i * f.dim, (i + 1) * f.dim)));
  const rng = Rng.fromSeed(opts.seed, 'umap');
  const params = { nComponents: 2, nNeighbors: Math.max(2, Math.min(opts.nNeighbors ?? 15, f.count - 1)), minDist: opts.minDist ?? 0.1 };
  const umap = new UMAP({ ...params, ...(opts.epochs ? { nEpochs: opts.epochs } : {}), random: () => rng.next() });
  if (f.count < 3) return { points: rows.map((_, i) => [i, 0]), params: { ...params, epochs: 0 } };
  const total = umap.initializeFit(rows);
  const embedding = await new Promise<number[][]>((resolve, reject) => {
    // fitAsync would run initializeFit again; this is its loop, ten epochs per macrotask (setTimeout:
    // Node and a browser's worker alike), with the epoch count known up front
    const step = () => {
      try {
        let epoch = 0;
        for (let i = 0; i < 10 && epoch < total; i++) {
          epoch = umap.step();
          opts.onEpoch?.(epoch, total);
        }
        if (epoch < total) setTimeout(step, 0);
        else resolve(umap.getEmbedding());
      } catch (e) {
        reject(e);
      }
    };
    setTimeout(step, 0);
  });
  return { points: embedding.map(([x, y]) => [x, y]), params: { ...params, epochs: total } };
}
