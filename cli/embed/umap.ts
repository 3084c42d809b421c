import { Rng, type FeatureSet } from '../../core/index.js';
import { unitRows } from './neighbours.js';

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
    // fitAsync would run initializeFit again; this is its loop, one epoch per macrotask, with the epoch count known up front
    const step = () => {
      try {
        const epoch = umap.step();
        opts.onEpoch?.(epoch, total);
        if (epoch < total) setImmediate(step);
        else resolve(umap.getEmbedding());
      } catch (e) {
        reject(e);
      }
    };
    setImmediate(step);
  });
  return { points: embedding.map(([x, y]) => [x, y]), params: { ...params, epochs: total } };
}
